"""What a page's records name by code, looked up once per page: authors (`mentor:3`,
`staff:7`) and regions (`6472011001`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.labels import author_ids
from storage import regions, staff
from storage.scope import Scope

Names = tuple[dict[int, str], dict[int, str]]


async def authors(session: AsyncSession, scope: Scope, who: Iterable[str | None]) -> Names:
    """Mentors' and staff members' names for the `author` filter of the templates, as far as
    they could have written on the reader's records."""
    mentor_ids, staff_ids = author_ids([w for w in who if w])
    return await staff.names_of(session, scope, mentor_ids=mentor_ids, staff_ids=staff_ids)


async def places(session: AsyncSession, codes: Iterable[str | None]) -> dict[str, str]:
    """The official names of these region codes and of the regions above them, for the `place`
    filter of the templates (a desa's page names its kecamatan and kabupaten too)."""
    return await regions.names(session, {up for c in codes if c for up in regions.parents(c)})
