"""Staff sign-in: throttling and lock-out, session expiry, logout, password change, cookies."""

from __future__ import annotations

import pytest

from storage.scope import Scope, ScopeError, check_account, scoped
from tests.admin_world import PASSWORD, World, csrf_of, login, world_fixture  # noqa: F401


async def test_a_right_password_opens_a_session_with_safe_cookies(world: World) -> None:
    """HttpOnly, SameSite=Lax; the database keeps only a hash of the cookie."""
    client = await world.client()
    response = await login(client, "samarinda", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "sinergi_session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    token = client.cookies["sinergi_session"]
    from sqlalchemy import select

    from storage.models import StaffSession

    async with await world.h.session() as session:
        hashes = list(await session.scalars(select(StaffSession.token_hash)))
    assert hashes and token not in hashes


async def test_cookie_is_secure_behind_https(world: World) -> None:
    """A request that came over https (the trusted proxy says so) gets a Secure cookie."""
    world.h.rt.settings.trusted_proxies = "127.0.0.1"  # the test transport's peer is the proxy
    client = await world.client()
    form = await client.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in form.headers["set-cookie"].lower()


async def test_wrong_passwords_slow_down_then_lock(world: World) -> None:
    """Three tries are free; then each must wait; after ten the account locks for a while."""
    client = await world.client()
    for _ in range(3):
        response = await login(client, "samarinda", "salah-sekali-lagi")
        assert response.status_code == 401
        assert "Nama pengguna atau kata sandi salah" in response.text
    # even the right password waits now: guessing gets no answer at all
    response = await login(client, "samarinda", PASSWORD)
    assert response.status_code == 429 and "Tunggu" in response.text
    for _ in range(7):
        world.h.advance(seconds=61)
        response = await login(client, "samarinda", "salah-sekali-lagi")
    assert response.status_code == 429 and "dikunci" in response.text
    world.h.advance(seconds=61)
    assert (await login(client, "samarinda", PASSWORD)).status_code == 429
    world.h.advance(minutes=16)
    assert (await login(client, "samarinda", PASSWORD)).status_code == 303


async def test_one_address_guessing_many_names_is_slowed(world: World) -> None:
    """Failures across usernames from one address count too."""
    client = await world.client()
    statuses = [
        (await login(client, f"tebak{i}", "salah-sekali-lagi")).status_code for i in range(12)
    ]
    assert statuses[:3] == [401, 401, 401] and 429 in statuses


async def test_sessions_expire(world: World) -> None:
    """After `session_hours` the session is gone and the page asks to sign in again."""
    client = await world.client("samarinda")
    assert (await client.get("/admin")).status_code == 200
    world.h.advance(hours=world.h.rt.settings.session_hours, seconds=1)
    response = await client.get("/admin/households")
    assert response.status_code == 303 and response.headers["location"].startswith("/admin/login")


async def test_logout_ends_the_session_on_the_server(world: World) -> None:
    """The old cookie is worthless after signing out."""
    client = await world.client("samarinda")
    token = client.cookies["sinergi_session"]
    assert (
        await client.post("/admin/logout", data={"csrf_token": await csrf_of(client)})
    ).status_code == 303
    replay = await world.client()
    replay.cookies.set("sinergi_session", token)
    assert (await replay.get("/admin")).status_code == 303


async def test_password_change(world: World) -> None:
    """The current password is checked; the new one works, the old one and old sessions do not."""
    client = await world.client("samarinda")
    token = await csrf_of(client)
    wrong = await client.post(
        "/admin/password",
        data={
            "csrf_token": token,
            "old": "bukan",
            "new": "sandi-baru-1234",
            "again": "sandi-baru-1234",
        },
    )
    assert wrong.status_code == 400 and "Kata sandi sekarang salah" in wrong.text
    done = await client.post(
        "/admin/password",
        data={
            "csrf_token": token,
            "old": PASSWORD,
            "new": "sandi-baru-1234",
            "again": "sandi-baru-1234",
        },
    )
    assert done.status_code == 303
    assert (await client.get("/admin")).status_code == 303
    fresh = await world.client()
    assert (await login(fresh, "samarinda", PASSWORD)).status_code == 401
    assert (await login(fresh, "samarinda", "sandi-baru-1234")).status_code == 303


def test_scope_fails_closed() -> None:
    """A query without a Scope, or a scope too wide for its role, never becomes SQL."""
    from sqlalchemy import select

    from storage.models import Household

    with pytest.raises(ScopeError):
        scoped(select(Household), "6472")  # type: ignore[arg-type]
    with pytest.raises(ScopeError):
        Scope(prefix="", role="officer", staff_id=1, username="x")
    with pytest.raises(ScopeError):
        Scope(prefix="64720", role="supervisor", staff_id=1, username="x")
    with pytest.raises(ScopeError):
        check_account("admin", "6472")
    with pytest.raises(ScopeError):
        Scope(prefix="6472", role="root", staff_id=1, username="x")
    with pytest.raises(ScopeError):
        Scope(prefix="64%", role="admin", staff_id=1, username="x")
    sql = str(
        scoped(select(Household), Scope(prefix="6472", role="officer", staff_id=1, username="x"))
    )
    assert "households.region_code >=" in sql and "households.region_code <" in sql


async def test_officers_cannot_manage_staff_and_admins_only_within_their_region(
    world: World,
) -> None:
    """The staff pages are for admins; an admin of Kalimantan Timur cannot create an account for Jawa."""
    officer = await world.client("samarinda")
    assert (await officer.get("/admin/staff")).status_code == 403
    response = await officer.post(
        "/admin/staff",
        data={
            "csrf_token": await csrf_of(officer),
            "username": "baru",
            "password": "panjang-sekali-1",
            "role": "officer",
            "region": "6472",
        },
    )
    assert response.status_code == 403
    admin = await world.client("kaltim")
    token = await csrf_of(admin)
    outside = await admin.post(
        "/admin/staff",
        data={
            "csrf_token": token,
            "username": "jawa",
            "password": "panjang-sekali-1",
            "role": "officer",
            "region": "3578",
        },
    )
    assert "error=" in outside.headers["location"]
    inside = await admin.post(
        "/admin/staff",
        data={
            "csrf_token": token,
            "username": "palaran",
            "password": "panjang-sekali-1",
            "role": "officer",
            "region": "647201",
        },
    )
    assert inside.headers["location"] == "/admin/staff?done=1"
    assert (await login(await world.client(), "palaran", "panjang-sekali-1")).status_code == 303
