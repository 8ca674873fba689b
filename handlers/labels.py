"""The names people read for stored codes: programs, requests, reports, referrals, graduation.

Each table maps a code kept in the database to a catalog msgid (marked with N_, translated
where it is shown). Storage keeps the codes and the rules; the words live here. Keys are
stored with each row, so keep old keys when a table changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from locales.i18n import N_, _, rupiah
from storage.models import ProgressReport, ServiceRequest

# Aid programs (STATUS) -------------------------------------------------------------------------

PROGRAM_NAMES = {
    "PKH": N_("PKH (Family Hope Program)"),
    "BPNT": N_("BPNT / Sembako (food aid)"),
    "BLT": N_("BLT (direct cash aid)"),
    "PBI-JK": N_("PBI-JK (free health insurance)"),
    "BANTUAN_USAHA": N_("Business starter package"),
    "PELATIHAN": N_("Training"),
    "KOPERASI": N_("Village cooperative (Kopdes Merah Putih)"),
}

PROGRAM_STATUS_NAMES = {
    "aktif": N_("active"),
    "dalam_proses": N_("being processed"),
    "disalurkan": N_("paid out"),
    "ditangguhkan": N_("on hold"),
    "selesai": N_("finished"),
    "tidak_aktif": N_("not active"),
}

# Service requests ------------------------------------------------------------------------------

REQUEST_KIND_NAMES = {
    "pelatihan": N_("Training"),
    "koperasi": N_("Cooperative membership"),
    "sanggah": N_("Data correction or objection"),
    "hapus": N_("Stop using or erase my data"),
}

REQUEST_STATE_NAMES = {
    "diajukan": N_("submitted"),
    "diproses": N_("being processed"),
    "disetujui": N_("approved"),
    "ditolak": N_("not approved"),
    "dirujuk": N_("referred to another office"),
    "selesai": N_("finished"),
    "dibatalkan": N_("cancelled"),
}

# A request as the subject of a sentence of news: "Pengajuan pelatihan Anda (PL-…) disetujui."
REQUEST_SUBJECTS = {
    "pelatihan": N_("Your training request"),
    "koperasi": N_("Your cooperative membership request"),
    "sanggah": N_("Your data correction request"),
    "hapus": N_("Your request about your data"),
}

# HAPUS DATA: what the family asks Sinergi to do with its data (the `hapus` request's topic).
ERASURE_KINDS = {
    "restrict": N_("Stop using my data"),
    "erase": N_("Erase my data"),
}

OBJECTION_TOPICS = {
    "data_salah": N_("My data is wrong"),
    "usul": N_("I should receive aid"),
    "lainnya": N_("Something else"),
}


@dataclass(frozen=True)
class Topic:
    """One training topic: the stored key, the label shown, the office that usually runs it."""

    key: str
    label: str
    office: str


# The training menu, in the order shown; change this list to change the menu.
TRAINING_TOPICS = (
    Topic("olahan_pangan", N_("Food processing"), "Disnakertrans"),
    Topic("kemasan_label", N_("Packaging and labels"), "Disperindagkop"),
    Topic("pemasaran_digital", N_("Selling online"), "Disperindagkop"),
    Topic("pembukuan", N_("Simple bookkeeping"), "Disperindagkop"),
    Topic("peternakan", N_("Raising livestock"), "Dinas Peternakan"),
    Topic("menjahit", N_("Sewing"), "Disnakertrans"),
    Topic("lainnya", N_("Other topic"), "Dinsos"),
)


def topic_by_key(key: str | None) -> Topic | None:
    """The training topic with this key, if it is on the list."""
    return next((t for t in TRAINING_TOPICS if t.key == key), None)


def request_state(row: ServiceRequest) -> str:
    """`dirujuk ke Disnakertrans` or `sedang diproses`, in the active language."""
    if row.state == "dirujuk" and row.referred_to:
        return _("referred to {office}").format(office=row.referred_to)
    return _(REQUEST_STATE_NAMES.get(row.state, row.state))


def request_kind(row: ServiceRequest) -> str:
    """`Pelatihan`, `Keanggotaan koperasi`…, in the active language."""
    return _(REQUEST_KIND_NAMES.get(row.kind, row.kind))


# Business reports ------------------------------------------------------------------------------

BUSINESS_STATES = {
    "berjalan": N_("Running"),
    "berhenti": N_("Stopped for now"),
    "tutup": N_("Closed"),
}

PROBLEMS = {
    "tidak_ada": N_("No problem"),
    "modal": N_("Capital"),
    "pemasaran": N_("Selling / customers"),
    "bahan_baku": N_("Raw materials"),
    "kesehatan": N_("Health"),
    "cuaca": N_("Weather"),
    "lainnya": N_("Something else"),
}

FLAG_NAMES = {
    "berhenti": N_("business stopped for now"),
    "tutup": N_("business closed"),
    "omzet_turun": N_("omzet fell two reports in a row"),
    "omzet_nol": N_("no omzet this month"),
    "mendesak": N_("urgent problem"),
}

NOT_ANSWERED = N_("not answered")


def report_summary(row: ProgressReport) -> str:
    """One line of a report: business state, omzet and problem."""
    parts = [_(BUSINESS_STATES.get(row.business_state or "", NOT_ANSWERED))]
    if row.omzet is not None:
        parts.append(_("omzet {amount}").format(amount=rupiah(row.omzet)))
    if row.problem and row.problem != "tidak_ada":
        problem = _(PROBLEMS.get(row.problem, row.problem))
        if row.problem_note:
            problem += f" ({row.problem_note[:80]})"
        parts.append(_("problem: {problem}").format(problem=problem))
    if row.urgent:
        parts.append(_("urgent"))
    return " · ".join(parts)


def report_flags(row: ProgressReport) -> str:
    """Why a report was flagged, as a list of short reasons (`usaha tutup, masalah mendesak`)."""
    return ", ".join(_(FLAG_NAMES[f]) for f in row.flags or [] if f in FLAG_NAMES)


# Households the programs put first (storage/priority.py) -------------------------------------

CATEGORY_NAMES = {
    "perempuan_kepala_keluarga": N_("Woman head of household"),
    "disabilitas": N_("Person with a disability"),
    "lansia": N_("Elderly"),
    "desil1": N_("Poorest decile (desil 1)"),
}


def category_of(value: str) -> str:
    """A category filter as the form sends it: a known one, or none."""
    return value if value in CATEGORY_NAMES else ""


# Cooperative membership (storage/memberships.py) --------------------------------------------

MEMBERSHIP_STATE_NAMES = {
    "diajukan": N_("applied, to verify"),
    "anggota": N_("member"),
    "ditolak": N_("not accepted"),
}


# Referrals to other offices --------------------------------------------------------------------

OFFICE_NAMES = {
    "disperindagkop": N_("Disperindagkop (capital, marketing)"),
    "disnakertrans": N_("Disnakertrans (training, packaging)"),
    "pupr": N_("PUPR (housing, clean water)"),
    "koperasi": N_("Village cooperative (Kopdes Merah Putih)"),
    "dinsos": N_("Dinsos (social affairs)"),
    "diskop_ukm": N_("Dinas Koperasi dan UKM (cooperatives, small business)"),
    "lainnya": N_("Another office"),
}

OUTCOME_NAMES = {
    "trained": N_("trained"),
    "hired": N_("hired"),
    "member": N_("became a member"),
    "house": N_("house repaired"),
    "other": N_("other"),
}

REFERRAL_STATE_NAMES = {
    "dikirim": N_("sent, waiting for the office"),
    "diterima": N_("accepted by the office"),
    "selesai": N_("done"),
    "ditolak": N_("not accepted by the office"),
}

# The graduation path ---------------------------------------------------------------------------

STAGE_NAMES = {
    "penerima_bansos": N_("Receiving social aid"),
    "pelatihan": N_("Training"),
    "usaha_rintisan": N_("Starting a business"),
    "usaha_berjalan": N_("Business running"),
    "anggota_koperasi": N_("Cooperative member"),
    "mandiri": N_("Independent (graduated)"),
}

# What the household reads as its next step, at each stage.
NEXT_STEPS = {
    "penerima_bansos": N_("Next step: ask for training from the menu (Make a request)."),
    "pelatihan": N_(
        "Next step: receive your business starter package, or send your first business report."
    ),
    "usaha_rintisan": N_(
        "Next step: send your business report every month; after {n} months in a row with the business running, you move up."
    ),
    "usaha_berjalan": N_(
        "Next step: join the village cooperative (Kopdes Merah Putih) from the menu."
    ),
    "anggota_koperasi": N_(
        "Next step: keep the business going; your mentor will confirm when your family stands on its own."
    ),
    "mandiri": N_(
        "Your family stands on its own. We keep in touch until {date}, in case you need help."
    ),
}

SIGNAL_NAMES = {
    "omzet_turun": N_("omzet fell in two reports in a row"),
    "usaha_berhenti": N_("the business stopped or closed"),
    "senyap": N_("silent: has not answered Sinergi or the mentor"),
    "koperasi_lepas": N_("cooperative membership lapsed"),
    "desil_turun": N_("a worse desil at the latest data import"),
    "kembali_bansos": N_("back in a social aid program"),
}
