"""mentor_journey: menu → families' stages (warnings first) → one family → confirm mandiri? → yes."""

from __future__ import annotations

from bot.messages import Choice
from handlers import menu
from handlers.labels import SIGNAL_NAMES, STAGE_NAMES
from handlers.turn import Turn
from locales.i18n import _, long_date
from storage import graduation
from storage.crypto import mask_name
from storage.graduation_rules import RULES
from storage.models import Household

PAGE = 8


async def show(turn: Turn, offset: int = 0) -> None:
    """The mentor sees a page of their families with stage and any warning, each a button."""
    assert turn.identity.mentor_id is not None
    lines, total = await graduation.of_mentor(
        turn.session, turn.identity.mentor_id, offset=offset, limit=PAGE
    )
    if not lines:
        await menu.show(
            turn,
            _("None of your families is on a business program yet.")
            + "\n\n"
            + _("Main menu. Choose a number:"),
        )
        return
    text = [_("Your families on the business path ({count}):").format(count=total)]
    for number, line in enumerate(lines, start=offset + 1):
        text.append(f"{number}. {line.name}: {describe(line.stage, line.risk_reason)}")
    choices = [Choice(f"mj:hh:{line.household_id}", line.name[:24]) for line in lines]
    if offset + PAGE < total:
        choices.append(Choice(f"mj:more:{offset + PAGE}", _("More families")))
    turn.goto("mentor_journey", "list")
    turn.say("\n".join(text), choices)


def describe(stage: str, risk: str | None) -> str:
    """`Business running` or `Business running ⚠ omzet fell in two reports in a row`."""
    name = _(STAGE_NAMES.get(stage, stage))
    return f"{name} ⚠ {_(SIGNAL_NAMES.get(risk, risk))}" if risk else name


async def step(turn: Turn) -> None:
    """A family's button shows it; "more" turns the page; confirm and yes make it mandiri."""
    kind, _sep, arg = (turn.choice or "").removeprefix("mj:").partition(":")
    if kind == "more" and arg.isdigit():
        await show(turn, int(arg))
    elif kind in ("hh", "confirm", "yes") and arg.isdigit() and (hh := await _own(turn, int(arg))):
        await {"hh": family, "confirm": ask_confirm, "yes": confirm}[kind](turn, hh)
    else:
        await show(turn)


async def _own(turn: Turn, household_id: int) -> Household | None:
    """The household, only if this mentor is its mentor."""
    household = await turn.session.get(Household, household_id)
    return household if household and household.mentor_id == turn.identity.mentor_id else None


async def family(turn: Turn, household: Household) -> None:
    """One family: stage and since when, the latest warning, and a button to confirm mandiri."""
    stage = await graduation.stage_of(turn.session, household.id)
    if stage is None:
        await show(turn)
        return
    lines = [
        f"{mask_name(household.name)} ({household.desa or '-'})",
        _("Stage: {stage}, since {date}.").format(
            stage=describe(stage.stage, stage.risk_reason), date=long_date(stage.since)
        ),
    ]
    if stage.stage == "mandiri" and stage.watch_until:
        lines.append(_("Watched until {date}.").format(date=long_date(stage.watch_until)))
    choices = [Choice("mj:list:0", _("Back to the list"))]
    if stage.stage in RULES.confirm_from:
        choices.insert(0, Choice(f"mj:confirm:{household.id}", _("Confirm independent")))
    turn.goto("mentor_journey", "family")
    turn.say("\n".join(lines), choices)


async def ask_confirm(turn: Turn, household: Household) -> None:
    """The mentor is asked to be sure: the family will be counted as graduated."""
    turn.goto("mentor_journey", "confirm")
    turn.say(
        _(
            "Does the family of {name} stand on its own now, without aid? It will be counted as "
            "graduated and watched for a year."
        ).format(name=mask_name(household.name)),
        [Choice(f"mj:yes:{household.id}", _("Yes, confirm")), Choice("mj:list:0", _("No, back"))],
    )


async def confirm(turn: Turn, household: Household) -> None:
    """The family becomes mandiri, confirmed by this mentor."""
    try:
        await graduation.confirm_mandiri(
            turn.session, household, by=f"mentor:{turn.identity.mentor_id}", now=turn.now
        )
    except graduation.StageError:
        turn.say(_("This family cannot be confirmed yet: its business must be running first."))
        await show(turn)
        return
    await menu.show(
        turn,
        _("Thank you. The family of {name} is now counted as independent.").format(
            name=mask_name(household.name)
        )
        + "\n\n"
        + _("Main menu. Choose a number:"),
    )
