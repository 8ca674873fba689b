// Sinergi admin: progressive extras only; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // "select all" boxes for bulk actions
  document.querySelectorAll("input[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll("input[name='" + box.dataset.selectAll + "']").forEach(function (b) {
        b.checked = box.checked;
      });
    });
  });
  // ask before irreversible actions
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
  // fetch()-style requests carry the CSRF token as a header
  var meta = document.querySelector("input[name='csrf_token']");
  window.sinergiCsrf = meta ? meta.value : "";
});
