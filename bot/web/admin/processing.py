"""The record of processing (UU PDP): what personal data Sinergi keeps, why, on what basis, how long, who sees it.

Words from the catalog, periods from the settings, and a few live counts of the staff's region,
so the office can show it to an auditor as it is today.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.web.admin.deps import CurrentStaff, Rt
from bot.web.admin.web import locale_of, render
from locales.i18n import N_, _, use_locale
from scheduler.retention import LOGIN_FAILURE_DAYS
from storage import processing
from storage.roster import jobs as import_jobs
from storage.roster.uploads import MAX_AGE

router = APIRouter()

CONSENT = N_("Consent of the person (UU PDP art. 20(2)(a)), given by typing SETUJU in the chat")
PUBLIC_TASK = N_(
    "A public task of the social-service office (UU PDP art. 20(2)(e)): social protection "
    "under the law on the handling of the poor"
)
STAFF_OF_REGION = N_("Dinsos staff whose region covers the family")


@dataclass(frozen=True)
class Entry:
    """One line of the record: what, why, on what basis, how long, who sees it (msgids)."""

    data: str
    purpose: str
    basis: str
    retention: str
    who: str


ENTRIES = (
    Entry(
        N_(
            "The family's identity from the roster: name, No. KK, NIK (encrypted, shown "
            "masked), birth date, sex, address, desa, desil, categories (woman head of "
            "family, disability, elderly), phone number"
        ),
        N_("To recognise the family in the chat, show its aid, and plan the mentoring"),
        PUBLIC_TASK,
        N_(
            "As long as the family is in the roster. It is the official register entry: "
            "Sinergi does not erase it, also not on request"
        ),
        N_(
            "Dinsos staff whose region covers the family (NIK masked; the full NIK only in "
            "an admin's export); the family's mentor"
        ),
    ),
    Entry(
        N_("Aid programs and their status, with their source and date (DTSEN, Kemensos)"),
        N_("To answer the family's questions about its aid, and to follow its graduation"),
        PUBLIC_TASK,
        N_("As the roster: replaced by each new import"),
        N_("Dinsos staff whose region covers the family; the family's mentor; the family itself"),
    ),
    Entry(
        N_(
            "The chat contact: the platform's chat id, phone number, language, consent and its date"
        ),
        N_("To send and receive messages"),
        CONSENT,
        N_("Until HAPUS DATA is approved (erased); after BERHENTI no message is sent"),
        STAFF_OF_REGION,
    ),
    Entry(
        N_("Chat transcripts, report photos and voice notes"),
        N_("To answer the person, receive business reports, and let the mentor follow up"),
        CONSENT,
        N_(
            "{months} months after the person last wrote (SINERGI_RETENTION_MONTHS), then "
            "purged by a daily job; at once when HAPUS DATA is approved"
        ),
        N_(
            "Dinsos staff whose region covers the family; the mentor (voice notes, flagged reports)"
        ),
    ),
    Entry(
        N_(
            "Business reports (state, turnover, problems), requests (training, cooperative, "
            "data correction, erasure) and mentor visits"
        ),
        N_("Mentoring, services, the graduation path, and the office's counts"),
        N_("Consent of the person, and the office's public task"),
        N_("The numbers stay for the counts; what was typed is erased when HAPUS DATA is approved"),
        N_("Dinsos staff whose region covers the family; the family's mentor"),
    ),
    Entry(
        N_("Proposals of families not yet registered: name, desa, phone number, a short story"),
        N_("So that the desa operator and Dinsos can visit and register the family"),
        CONSENT,
        N_(
            "Name, phone number and story are pseudonymised {months} months after the "
            "proposal was closed"
        ),
        N_("The desa operator and Dinsos staff whose region covers the desa"),
    ),
    Entry(
        N_("Uploaded roster files and their import reports (sealed; they hold names and NIKs)"),
        N_("To preview an import before it is confirmed, and to show its result"),
        PUBLIC_TASK,
        N_(
            "The file at most {upload_minutes} minutes, the reports {report_days} days; "
            "then deleted by a scheduled job"
        ),
        N_("The staff member who uploaded the file"),
    ),
    Entry(
        N_("Staff accounts, sign-in sessions, failed sign-ins and the audit log"),
        N_("Security and accountability: who did what with whose data, and when"),
        N_("Legal obligation of the controller (UU PDP art. 20(2)(c), art. 31 and 35)"),
        N_(
            "A session ends after {idle} idle minutes, or {hours} hours in any case; ended "
            "sessions are deleted daily, failed sign-ins after {failure_days} days; the "
            "audit log is kept"
        ),
        N_("Admins of the region (the audit log); each staff member their own account"),
    ),
)

COUNT_NAMES = {
    "households": N_("Households"),
    "chats": N_("Linked chats"),
    "reports": N_("Business reports"),
    "photos": N_("Report photos kept"),
    "visits": N_("Mentor visits"),
    "requests": N_("Requests"),
    "proposals": N_("Proposals"),
}


@router.get("/admin/processing")
async def register(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """The record of processing, with this region's counts."""
    settings = rt.settings
    periods = {
        "months": settings.retention_months,
        "idle": settings.session_idle_minutes,
        "hours": settings.session_hours,
        "failure_days": LOGIN_FAILURE_DAYS,
        "upload_minutes": int(MAX_AGE.total_seconds() // 60),
        "report_days": import_jobs.KEPT.days,
    }
    async with rt.sessions() as session:
        counts = await processing.held(session, staff.scope)
    with use_locale(locale_of(request)):
        rows = [
            [_(e.data), _(e.purpose), _(e.basis), _(e.retention).format(**periods), _(e.who)]
            for e in ENTRIES
        ]
        numbers = [(_(COUNT_NAMES[k]), n) for k, n in counts.items()]
    return render(
        request, "admin/processing.html", staff=staff, rows=rows, numbers=numbers, **periods
    )
