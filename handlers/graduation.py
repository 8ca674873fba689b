"""journey: menu → "My business journey" → stage, since when, next step, open referrals."""

from __future__ import annotations

from handlers.labels import NEXT_STEPS, STAGE_NAMES
from handlers.notices import organisation_name, referral_line
from handlers.turn import Turn
from locales.i18n import N_, _, long_date
from storage import graduation, referrals
from storage.models import GraduationStage

# Offered to every graduate on its path: the community of graduates (handlers/alumni.py).
ALUMNI_OFFER_TEXT = N_(
    "You can list your business for other families, mentors and cooperatives to find, and offer "
    "to be a peer mentor: type ALUMNI."
)


async def show(turn: Turn) -> None:
    """A linked household sees where it is on the path and its next step, in a few short lines."""
    from handlers import start  # a cycle at import time otherwise: start shows the menu

    household = await start.household_or_link(turn)
    if household is None:
        return
    turn.goto("menu", "choose")
    stage = await graduation.stage_of(turn.session, household.id)
    lines = [
        where(stage, turn.rules.graduation_reports_running)
        if stage
        else _(
            "Your family is not on a business program yet. "
            "Ask your mentor about training and the business starter package."
        )
    ]
    if stage is not None and stage.stage == "mandiri":
        lines.append(_(ALUMNI_OFFER_TEXT))
    if stage is not None and stage.risk_since is not None:
        lines.append(_("Your mentor will contact you to help you get going again."))
    for row in await referrals.of_household(turn.session, household.id, open_only=True):
        lines.append(referral_line(row, await organisation_name(turn.session, row)))
    turn.say("\n\n".join(lines) + "\n\n" + _("Type MENU for the menu."))


def where(stage: GraduationStage, reports_running: int) -> str:
    """Two lines: the stage with its date, and what comes next."""
    name = _(STAGE_NAMES.get(stage.stage, stage.stage))
    head = _("Your business journey: {stage} (since {date}).").format(
        stage=name, date=long_date(stage.since)
    )
    step = _(NEXT_STEPS.get(stage.stage, ""))
    if stage.stage == "mandiri":
        step = step.format(date=long_date(stage.watch_until or stage.since))
    elif stage.stage == "usaha_rintisan":
        step = step.format(n=reports_running)
    return head + "\n" + step if step else head
