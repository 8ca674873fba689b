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
  // a conversation that follows itself: reload its fragment every 10 s while the tab is seen,
  // so the household's replies appear as they arrive (the page shows it without this too)
  document.querySelectorAll("[data-poll]").forEach(function (box) {
    var scrollDown = function () {
      var chat = box.querySelector(".chat");
      if (chat) { chat.scrollTop = chat.scrollHeight; }
    };
    scrollDown();
    window.setInterval(function () {
      if (document.hidden) { return; }
      fetch(box.dataset.poll, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (answer) {
          // signed out or no longer in scope: leave what is shown as it is
          if (!answer.ok || answer.redirected) { return null; }
          return answer.text();
        })
        .then(function (html) {
          if (html !== null && html !== box.innerHTML) { box.innerHTML = html; scrollDown(); }
        })
        .catch(function () { /* offline for a moment: try again at the next tick */ });
    }, 10000);
  });
  // fetch()-style requests carry the CSRF token as a header
  var meta = document.querySelector("input[name='csrf_token']");
  window.sinergiCsrf = meta ? meta.value : "";
});
