"""Every /admin route, listed from the app: anonymous → login, other region → nothing, no CSRF → refused."""

from __future__ import annotations

import pytest

from tests.admin_world import World, csrf_of, fill, routes, world_fixture  # noqa: F401

PUBLIC = {("GET", "/admin/login"), ("POST", "/admin/login"), ("GET", "/admin/lang/{code}")}
SECURITY = {"x-frame-options": "DENY", "x-content-type-options": "nosniff"}


def test_the_enumeration_sees_the_pages(world: World) -> None:
    """The list is read from the app, and it is not empty (else the other tests prove nothing)."""
    found = set(routes(world.app))
    for expected in [
        ("GET", "/admin"),
        ("GET", "/admin/escalations"),
        ("POST", "/admin/requests/{request_id}/move"),
        ("GET", "/simulator"),
        ("POST", "/simulator/send"),
    ]:
        assert expected in found
    assert len(found) >= 30


async def test_anonymous_is_sent_to_login(world: World) -> None:
    """Without a session every staff page redirects to the login form, and every action is refused."""
    anon = await world.client()
    for method, path in routes(world.app):
        if (method, path) in PUBLIC:
            continue
        response = await anon.request(method, fill(path, world.samarinda))
        if method == "GET":
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/admin/login"), path
        else:
            assert response.status_code in (401, 403), (method, path, response.status_code)


async def test_other_region_sees_none_of_the_records(world: World) -> None:
    """Samarinda's officer asking for Balikpapan's records by id gets 404 on every route with an id."""
    officer = await world.client("samarinda")
    token = await csrf_of(officer)
    checked = 0
    for method, path in routes(world.app):
        if "{" not in path or (method, path) in PUBLIC:
            continue
        if path.startswith(("/admin/staff", "/admin/organisations", "/admin/partner")):
            continue  # admins' and partners' own pages refuse an officer (403): test_partners.py
        data = {
            "csrf_token": token,
            "text": "x",
            "outcome": "x",
            "action": "approve",
            "assignee": "me",
            "ids": str(world.balikpapan.household),
            "to": str(world.samarinda.mentor),
        }
        response = await officer.request(
            method, fill(path, world.balikpapan), data=data if method == "POST" else None
        )
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Rahasia" not in response.text
        checked += 1
    assert checked >= 10


async def test_lists_of_one_region_do_not_show_the_other(world: World) -> None:
    """Every page without an id, read by Samarinda's officer, shows Samarinda and never Balikpapan."""
    officer = await world.client("samarinda")
    for method, path in routes(world.app):
        if method != "GET" or "{" in path:
            continue
        for query in (
            "",
            "?state=resolved",
            "?q=Rahasia",
            "?kecamatan=647101",
            "?phone=081300000002",
        ):
            response = await officer.get(path + query)
            assert response.status_code in (200, 303, 307, 403, 404), (
                path,
                query,
                response.status_code,
            )
            for secret in world.balikpapan.names:
                assert secret not in response.text, (path, query, secret)
    listing = await officer.get("/admin/households")
    assert "Siti Aminah Rahayu" in listing.text


async def test_bulk_actions_with_a_foreign_id_change_nothing(world: World) -> None:
    """Bulk-assigning one of mine and one of theirs is a 404, and mine stays unassigned."""
    officer = await world.client("samarinda")
    token = await csrf_of(officer)
    response = await officer.post(
        "/admin/escalations/bulk-assign",
        data={
            "csrf_token": token,
            "assignee": "me",
            "ids": [str(world.samarinda.escalation), str(world.balikpapan.escalation)],
        },
    )
    assert response.status_code == 404
    queue = await officer.get("/admin/escalations?assignee=me")
    assert ">Siti Aminah Rahayu</a>" not in queue.text
    assert ">Siti Aminah Rahayu</a>" in (await officer.get("/admin/escalations")).text


async def test_state_changes_need_the_csrf_token(world: World) -> None:
    """Every POST with a session but without the token (or with a wrong one) is refused with 403."""
    admin = await world.client("kaltim")
    posts = [(m, p) for m, p in routes(world.app) if m == "POST" and (m, p) not in PUBLIC]
    assert len(posts) >= 10
    for method, path in posts:
        for data in ({}, {"csrf_token": "wrong"}):
            response = await admin.request(method, fill(path, world.samarinda), data=data)
            assert response.status_code == 403, (path, data, response.status_code)
    good = await admin.post(
        f"/admin/escalations/{world.samarinda.escalation}/note",
        headers={"X-CSRF-Token": await csrf_of(admin)},
        data={"text": "lewat header"},
    )
    assert good.status_code == 303


async def test_login_form_needs_its_token(world: World) -> None:
    """A login POST without the form's token (a cross-site post) is refused."""
    anon = await world.client()
    response = await anon.post(
        "/admin/login", data={"username": "samarinda", "password": "kata-sandi-yang-panjang"}
    )
    assert response.status_code == 403
    assert "sinergi_session" not in response.cookies


@pytest.mark.parametrize("path", ["/admin/login", "/admin", "/simulator", "/static/admin.css"])
async def test_security_headers_on_every_page(world: World, path: str) -> None:
    """CSP without inline scripts, no framing, no sniffing, a referrer policy."""
    officer = await world.client("samarinda")
    response = await officer.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert (
        "default-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
        and "unsafe-inline" not in csp
    )
    for name, value in SECURITY.items():
        assert response.headers[name] == value
    assert response.headers["referrer-policy"]
    assert "<script>" not in response.text and "onclick" not in response.text
