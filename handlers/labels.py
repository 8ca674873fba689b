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

# The graduates' community: the kinds of business a graduate lists (code → name), and the
# words people search with for each (typed, stemmed or with a typo; see handlers/alumni.py).
BUSINESS_KINDS = {
    "jahit": N_("Sewing and tailoring"),
    "makanan": N_("Food and catering"),
    "kue": N_("Cakes and snacks"),
    "warung": N_("Shop (warung)"),
    "kerajinan": N_("Handicrafts"),
    "tani": N_("Farming and gardens"),
    "ternak": N_("Livestock and fish"),
    "salon": N_("Beauty and salon"),
    "bengkel": N_("Repairs and workshop"),
    "jasa": N_("Services and other"),
}  # ten at most: one WhatsApp list
BUSINESS_KIND_WORDS = {
    "jahit": ("jahit", "menjahit", "penjahit", "konveksi", "baju", "tailor", "sewing"),
    "makanan": ("makanan", "makan", "katering", "catering", "masakan", "nasi", "food"),
    "kue": ("kue", "roti", "snack", "jajanan", "cake"),
    "warung": ("warung", "toko", "kelontong", "sembako", "shop"),
    "kerajinan": ("kerajinan", "anyaman", "manik", "craft"),
    "tani": ("tani", "pertanian", "kebun", "sayur", "farm"),
    "ternak": ("ternak", "peternakan", "ayam", "kambing", "ikan", "lele", "livestock"),
    "salon": ("salon", "rias", "potong", "rambut", "beauty"),
    "bengkel": ("bengkel", "servis", "service", "reparasi", "las"),
    "jasa": ("jasa", "laundry", "cuci"),
}

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

# The staff desk -------------------------------------------------------------------------------

ESCALATION_REASONS = {
    "silent": N_("Silent: no answer to the check-in"),
    "unreachable": N_("Cannot be reached by chat"),
    "mentor_handoff": N_("Handed over by the mentor"),
    "report_flag": N_("Report needs attention"),
}

ESCALATION_STATES = {
    "open": N_("open"),
    "assigned": N_("assigned"),
    "resolved": N_("resolved"),
}

RUNG_NAMES = {
    "waiting": N_("waiting for the next check-in"),
    "checkin": N_("check-in sent"),
    "reminder": N_("reminder sent"),
    "mentor": N_("with the mentor"),
    "dinsos": N_("with Dinsos"),
}

LADDER_STEPS = {
    "checkin": N_("Check-in sent"),
    "reminder": N_("Reminder sent"),
    "mentor": N_("Mentor told: no answer"),
    "unreachable": N_("Mentor told: cannot be reached by chat"),
    "dinsos": N_("Escalated to Dinsos"),
}

# The kinds of a household's story an officer filters by (storage/timeline.py KINDS).
TIMELINE_KINDS = {
    "message": N_("Messages"),
    "report": N_("Reports"),
    "request": N_("Requests"),
    "ladder": N_("Check-in ladder"),
    "visit": N_("Mentor visits"),
    "referral": N_("Referrals"),
    "graduation": N_("Graduation"),
    "note": N_("Staff notes"),
    "voice": N_("Voice messages"),
    "membership": N_("Cooperative membership"),
}

CHANNEL_NAMES = {
    "telegram": N_("Telegram"),
    "whatsapp": N_("WhatsApp"),
    "simulator": N_("Chat simulator"),
    "console": N_("Terminal chat"),
}

EVIDENCE_NAMES = {
    "request": N_("a request"),
    "program": N_("an aid program"),
    "reports": N_("business reports"),
    "signal": N_("a warning sign"),
    "confirm": N_("confirmed by a person"),
}

PROPOSAL_STATE_NAMES = {
    "diajukan": N_("submitted"),
    "dikunjungi": N_("visited"),
    "didaftarkan": N_("registered"),
    "ditolak": N_("declined"),
}

ROLE_NAMES = {
    "admin": N_("administrator"),
    "supervisor": N_("supervisor"),
    "officer": N_("officer"),
    "coordinator": N_("coordinator (counts only)"),
    "partner": N_("partner office"),
}

ROSTER_KINDS = {
    "households": N_("Households"),
    "mentors": N_("Mentors"),
    "programs": N_("Program enrollments"),
    "organisations": N_("Organisations"),
}

AUDIT_ACTIONS = {
    "login": N_("Signed in"),
    "login.failed": N_("Sign-in failed"),
    "logout": N_("Signed out"),
    "password.change": N_("Password changed"),
    "household.view": N_("Household page opened"),
    "graduation.view": N_("Graduation page opened"),
    "household.message": N_("Message sent to a household"),
    "household.erased": N_("Household data erased"),
    "household.restricted": N_("Household data no longer used"),
    "export": N_("Export"),
    "import": N_("Roster imported"),
    "import.check": N_("Roster checked"),
    "roster_import": N_("Roster imported"),
    "membership.verify": N_("Cooperative membership verified"),
    "membership.refuse": N_("Cooperative membership refused"),
    "membership.pokok": N_("Simpanan pokok recorded"),
    "membership.wajib": N_("Simpanan wajib recorded"),
    "escalation_assign": N_("Escalation assigned"),
    "escalation_note": N_("Escalation note"),
    "escalation_resolve": N_("Escalation resolved"),
    "escalation_handoff": N_("Handed to Dinsos by the mentor"),
    "request.process": N_("Request being processed"),
    "request.approve": N_("Request approved"),
    "request.reject": N_("Request rejected"),
    "request.refer": N_("Request referred"),
    "request.done": N_("Request done"),
    "proposal.filed": N_("Family proposed"),
    "proposal.visit": N_("Proposal: visited"),
    "proposal.register": N_("Proposal: registered"),
    "proposal.decline": N_("Proposal: declined"),
    "mentor.reassign": N_("Households moved to another mentor"),
    "staff.add": N_("Staff account created"),
    "staff.active": N_("Staff account switched on"),
    "staff.inactive": N_("Staff account switched off"),
    "link": N_("Chat linked to a household"),
    "link_code": N_("Link code made"),
    "unlink": N_("Chat unlinked"),
    "voice_note": N_("Voice message kept"),
    "rights.data_seen": N_("Family read its data"),
    "retention.purge": N_("Old messages removed"),
    "graduation.mandiri": N_("Confirmed independent"),
    "graduation.clear_risk": N_("Taken off the at-risk list"),
    "referral.create": N_("Referral sent"),
    "referral.move": N_("Referral updated"),
}

LINK_METHODS = {
    "nik": N_("by NIK and No. KK"),
    "contact": N_("by the phone's own number"),
    "code": N_("by the mentor's code"),
    "phone": N_("by the mentor's phone"),
}

# The details an audit event keeps, by key; a value is named through the table given.
AUDIT_DETAILS = {
    "reference": (N_("reference"), ""),
    "username": (N_("username"), ""),
    "role": (N_("role"), "role"),
    "kind": (N_("what"), "roster"),
    "created": (N_("new"), ""),
    "updated": (N_("updated"), ""),
    "rejected": (N_("refused"), ""),
    "rows": (N_("rows"), ""),
    "paid_on": (N_("paid on"), ""),
    "through": (N_("paid through"), ""),
    "format": (N_("format"), ""),
    "with_nik": (N_("with NIK"), ""),
    "filters": (N_("filters"), ""),
    "what": (N_("what"), ""),
    "quarter": (N_("quarter"), ""),
    "method": (N_("how"), "link_method"),
    "office": (N_("office"), "office"),
    "state": (N_("state"), "referral_state"),
    "escalation_id": (N_("escalation"), ""),
    "to": (N_("assigned to"), ""),
    "households": (N_("households"), ""),
    "to_mentor": (N_("to mentor"), ""),
    "address": (N_("address"), ""),
    "reason": (N_("reason"), ""),
    "chats": (N_("chats"), ""),
    "media": (N_("files"), ""),
    "mime_type": (N_("file type"), ""),
    "outcome": (N_("outcome"), ""),
    "alumni_listing": (N_("graduate listing and peer pairings"), ""),
}


def audit_detail(key: str, value: object) -> str:
    """`with NIK: yes` for the stored `with_nik=True`, in the active language."""
    name, table = AUDIT_DETAILS.get(key, (key, ""))
    if isinstance(value, bool):
        shown = _("yes") if value else _("no")
    elif isinstance(value, dict):
        shown = ", ".join(f"{k}={v}" for k, v in value.items() if v not in ("", None, False))
    elif isinstance(value, list):
        shown = ", ".join(str(v) for v in value)
    else:
        shown = label(table, str(value)) if table and value else str(value)
    return f"{_(name)}: {shown or '–'}"


# Every table of names a staff page reads, by the name templates use (`code|label("reason")`).
TABLES: dict[str, dict[str, str]] = {
    "program": PROGRAM_NAMES,
    "program_status": PROGRAM_STATUS_NAMES,
    "request_kind": REQUEST_KIND_NAMES,
    "request_state": REQUEST_STATE_NAMES,
    "business": BUSINESS_STATES,
    "problem": PROBLEMS,
    "flag": FLAG_NAMES,
    "office": OFFICE_NAMES,
    "referral_state": REFERRAL_STATE_NAMES,
    "stage": STAGE_NAMES,
    "signal": SIGNAL_NAMES,
    "reason": ESCALATION_REASONS,
    "escalation_state": ESCALATION_STATES,
    "rung": RUNG_NAMES,
    "ladder_step": LADDER_STEPS,
    "membership_state": MEMBERSHIP_STATE_NAMES,
    "category": CATEGORY_NAMES,
    "channel": CHANNEL_NAMES,
    "evidence": EVIDENCE_NAMES,
    "proposal_state": PROPOSAL_STATE_NAMES,
    "role": ROLE_NAMES,
    "roster": ROSTER_KINDS,
    "audit": AUDIT_ACTIONS,
    "link_method": LINK_METHODS,
}


def label(table: str, code: str | None) -> str:
    """The name of a stored code in the active language; `–` for none, the code if unknown."""
    if not code:
        return "–"
    found = TABLES[table].get(code)
    return _(found) if found is not None else code


def topic_label(kind: str, topic: str | None) -> str:
    """A request's topic as the household chose it (`Berjualan online`, `Data saya salah`)."""
    if not topic:
        return "–"
    if kind == "pelatihan":
        found = topic_by_key(topic)
        return _(found.label) if found else topic
    names = {"sanggah": OBJECTION_TOPICS, "hapus": ERASURE_KINDS}.get(kind, {})
    return _(names[topic]) if topic in names else topic


def categories(raw: str | None) -> str:
    """`Perempuan kepala keluarga, Lansia` for the stored `perempuan_kepala_keluarga;lansia`."""
    found = [c for c in (raw or "").replace(",", ";").split(";") if c]
    return ", ".join(label("category", c) for c in found) or "–"


HOUSEHOLD_AUTHOR = N_("Family")
HOUSEHOLD_CHAT = "chat:0"  # an author that is the family's chat, whichever chat it was
SYSTEM_AUTHOR = N_("Sinergi (automatic)")


def author_ids(authors: list[str]) -> tuple[set[int], set[int]]:
    """The mentor ids and staff ids named by stored authors (`mentor:3`, `staff:7`)."""
    found: dict[str, set[int]] = {"mentor": set(), "staff": set()}
    for who in authors:
        kind, _sep, number = who.partition(":")
        if number.isdigit() and kind in found:
            found[kind].add(int(number))
    return found["mentor"], found["staff"]


def filer(filed_by: str | None) -> str:
    """Who filed a request, as authors are stored; one filed before Sinergi kept it is the
    family's (only the family's chat filed requests then)."""
    return filed_by or HOUSEHOLD_CHAT


def author(who: str | None, mentors: dict[int, str], staff: dict[int, str]) -> str:
    """Who did it, as a person reads it: a mentor's or officer's name, "Keluarga", "Sinergi"."""
    if not who:
        return "–"
    kind, _sep, number = who.partition(":")
    if kind == "chat" and number.isdigit():
        return _(HOUSEHOLD_AUTHOR)
    if kind in ("system", "scheduler") and not number:
        return _(SYSTEM_AUTHOR)
    if number.isdigit() and kind == "mentor":
        return mentors.get(int(number), _("a mentor"))
    if number.isdigit() and kind == "staff":
        return staff.get(int(number), _("an officer"))
    return who  # a staff member's username, as stored
