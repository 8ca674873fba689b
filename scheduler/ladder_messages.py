"""The ladder's words: check-ins and reminders to households, daily and weekly lists to mentors.

The sweeps (scheduler/ladder.py) write these as deferred messages naming a renderer below;
the words are made when the sender reads the row, in the chat's language. RENDERERS is the
table the runtime installs at start-up (bot.messages.install_renderers).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.messages import Choice, Renderer, Reply
from handlers.common import address
from handlers.reports import month_label
from locales.i18n import _, long_date
from storage import calendar
from storage import ladder as store

CHECKIN, REMINDER, DIGEST, WEEKLY = (
    "ladder.checkin",
    "ladder.reminder",
    "ladder.digest",
    "ladder.weekly",
)


def first_name(name: str) -> str:
    """The first word of the head of household's name, for a friendly greeting."""
    return (name.split() or [""])[0].title()


def checkin(args: dict[str, Any]) -> Reply:
    """A deferred check-in: `{"name", "gender", "month"}` (rows written before lack the last two)."""
    return checkin_reply(_addressed(args), str(args.get("month") or ""))


def reminder(args: dict[str, Any]) -> Reply:
    """A deferred reminder: `{"name", "gender"}`."""
    return reminder_reply(_addressed(args))


def _addressed(args: dict[str, Any]) -> str:
    """`Bu Siti` / `Pak Slamet` from the head's gender; the first name alone on older rows."""
    name = str(args.get("name") or "")
    if "gender" not in args:
        return first_name(name)
    return address(name, args.get("gender"))


def checkin_reply(name: str, month: str = "") -> Reply:
    """The household is asked how the business did in the month the report is about."""
    if month:
        text = _(
            "Hello {name}, this is Sinergi. How was your business in {month}? Tell us in a "
            "short report: a few questions, two minutes."
        ).format(name=name, month=month_label(month))
    else:
        text = _(
            "Hello {name}, this is Sinergi. How is your business doing this month? Tell us in a "
            "short report: a few questions, two minutes."
        ).format(name=name)
    return Reply(
        text,
        (Choice("act:report", _("Report now")), Choice("act:menu", _("Main menu"))),
        template="checkin",
        template_params=(name,),
    )


def reminder_reply(name: str) -> Reply:
    """The household is reminded, once, that we would like to hear from it."""
    return Reply(
        _(
            "{name}, we have not heard from you yet. How is your business? Please send the short "
            "report, or write to us if something is wrong."
        ).format(name=name),
        (Choice("act:report", _("Report now")), Choice("act:menu", _("Main menu"))),
        template="reminder",
        template_params=(name,),
    )


LIST_LENGTH = 8


def news_day(cycle_start: object, contact: object = None) -> date:
    """The day of the household's last news: its last contact, else the start of its cycle.

    A contact is a moment as the database wrote it into JSON (`2026-11-04 02:00:00` on SQLite,
    `2026-11-04T02:00:00+00:00` on PostgreSQL), counted on the ladder's calendar.
    """
    if contact:
        moment = datetime.fromisoformat(str(contact))
        return calendar.period_day(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return date.fromisoformat(str(cycle_start)[:10])


def list_args(args: dict[str, Any]) -> tuple[list[store.SilentHousehold], int, date]:
    """A deferred list's page (longest silent first), total and day, as the SQL wrote them."""
    page = [
        store.SilentHousehold(int(hid), str(name), desa, "", reason, news_day(*since))
        for hid, name, desa, reason, *since in args.get("page") or []
    ]
    page.sort(key=lambda row: (row.since, row.name, row.household_id))
    return page, int(args.get("total") or len(page)), date.fromisoformat(str(args["day"]))


def digest(args: dict[str, Any]) -> Reply:
    """A deferred daily digest."""
    return digest_reply(*list_args(args))


def weekly_list(args: dict[str, Any]) -> Reply:
    """A deferred weekly list."""
    return weekly_reply(*list_args(args))


def household_line(row: store.SilentHousehold, today: date) -> str:
    """`• Siti Aminah (Rawa Makmur): silent since … (9 days)` or `… cannot be reached`."""
    place = f" ({row.desa})" if row.desa else ""
    if row.reason == "unreachable":
        state = _("cannot be reached by chat")
    else:
        state = _("silent since {day} ({days} days)").format(
            day=long_date(row.since), days=(today - row.since).days
        )
    return f"• {row.name}{place}: {state}"


def visit_choices(page: list[store.SilentHousehold]) -> list[Choice]:
    """A "record a visit" button per household, and one for the whole list."""
    choices = [
        Choice(f"act:visit:{row.household_id}", row.name[:24], _("Record a visit")) for row in page
    ]
    return [*choices, Choice("act:silent:0", _("Whole list"))]


def digest_reply(page: list[store.SilentHousehold], total: int, today: date) -> Reply:
    """The mentor's daily digest: silent households to visit, with buttons to record a visit."""
    lines = [household_line(row, today) for row in page]
    more = total - len(page)
    text = _("Families to visit ({count}): they have not answered Sinergi.").format(count=total)
    text += "\n" + "\n".join(lines)
    if more > 0:
        text += "\n" + _("…and {count} more.").format(count=more)
    text += "\n\n" + _("After the visit, press the family's name to record it.")
    return Reply(text, tuple(visit_choices(page)))


def weekly_reply(page: list[store.SilentHousehold], total: int, today: date) -> Reply:
    """The mentor's weekly list of households to visit this week."""
    lines = [household_line(row, today) for row in page]
    text = _("This week, please visit these families ({count}):").format(count=total)
    text += "\n" + "\n".join(lines)
    if total > len(page):
        text += "\n" + _("…and {count} more.").format(count=total - len(page))
    return Reply(text, tuple(visit_choices(page)))


# Deferred messages name their renderer; the sweeps write these names.
RENDERERS: dict[str, Renderer] = {
    CHECKIN: checkin,
    REMINDER: reminder,
    DIGEST: digest,
    WEEKLY: weekly_list,
}
# Rows written before the renderers moved here named them by module path; they still render.
FORMER_NAMES: dict[str, str] = {
    "scheduler.ladder:checkin": CHECKIN,
    "scheduler.ladder:reminder": REMINDER,
    "scheduler.ladder:digest": DIGEST,
    "scheduler.ladder:weekly": WEEKLY,
}
