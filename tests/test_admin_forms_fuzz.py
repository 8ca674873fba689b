"""Every admin form under random and mutated fields: never a 500, and nothing changes without the CSRF token."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from storage.models import (
    AuditEvent,
    Escalation,
    EscalationNote,
    Household,
    Mentor,
    Referral,
    ServiceRequest,
    StaffUser,
)
from tests.admin_world import World, csrf_of, fill, routes, world_fixture  # noqa: F401

FIELDS = (
    "text",
    "outcome",
    "action",
    "note",
    "office",
    "assignee",
    "ids",
    "to",
    "back",
    "referral_id",
    "state",
    "asked",
    "username",
    "password",
    "role",
    "region",
    "active",
    "old",
    "new",
    "again",
    "token",
    "kind",
    "filename",
    "phone",
    "choice",
)
# Values that broke forms before, and numbers at the edges of the database's integers.
ODD = st.sampled_from(
    ["", "²", "١٢", "0", "-1", "me", "none", str(2**63 - 1), str(2**63), str(2**70), "\x00", "=1+2"]
)
VALUE = st.one_of(ODD, st.text(max_size=40), st.integers(-(2**80), 2**80).map(str))
FORM = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=8)),
    st.one_of(VALUE, st.lists(VALUE, max_size=3)),
    max_size=6,
)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WATCHED = (Household, Escalation, EscalationNote, ServiceRequest, Mentor, Referral, StaffUser)


def _posts(world: World) -> list[str]:
    """Every staff form's address, filled with one region's ids (sign-out left out: it ends the test's session)."""
    return [
        fill(path, world.samarinda)
        for method, path in routes(world.app)
        if method == "POST" and path not in ("/admin/login", "/admin/logout")
    ]


async def _snapshot(world: World) -> list[Any]:
    """Every column of every row staff could change (sessions aside)."""
    rows: list[Any] = []
    async with await world.h.session() as session:
        for model in WATCHED:
            columns = list(model.__table__.columns)
            rows.append(list((await session.execute(select(*columns).order_by(columns[0]))).all()))
        rows.append(await session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())))
    return rows


@FUZZ
@given(form=FORM, which=st.integers(0, 10_000))
async def test_random_fields_on_any_admin_form_never_give_500(
    world: World, form: dict[str, Any], which: int
) -> None:
    """The admin's session with the right token: whatever the fields, the answer is never a 5xx."""
    admin = await world.client("kaltim")
    posts = _posts(world)
    path = posts[which % len(posts)]
    response = await admin.post(path, data={**form, "csrf_token": await csrf_of(admin)})
    assert response.status_code < 500, (path, form, response.status_code)


@FUZZ
@given(
    form=FORM,
    which=st.integers(0, 10_000),
    token=st.one_of(st.none(), st.text(max_size=60), st.sampled_from(["", "x" * 43])),
)
async def test_without_the_csrf_token_no_form_changes_anything(
    world: World, form: dict[str, Any], which: int, token: str | None
) -> None:
    """No token, or a wrong or mutated one: 403, and not one watched row differs."""
    admin = await world.client("kaltim")
    posts = _posts(world)
    path = posts[which % len(posts)]
    real = await csrf_of(admin)
    data = dict(form)
    data.pop("csrf_token", None)
    if token is not None and token != real:
        data["csrf_token"] = token
    elif token is not None:
        data["csrf_token"] = real[:-1] + ("A" if real[-1] != "A" else "B")  # one character off
    before = await _snapshot(world)
    response = await admin.post(path, data=data)
    assert response.status_code == 403, (path, data, response.status_code)
    assert await _snapshot(world) == before, path
