"""Service requests as the staff queue reads them: one page by state, one request, its steps."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Household, RequestEvent, ServiceRequest
from storage.paging import Page, paged
from storage.priority import first, in_category
from storage.scope import NotFound, Scope, scoped

OPEN = ("diajukan", "diproses", "disetujui", "dirujuk")  # the queue's default: not yet finished


async def queue(
    session: AsyncSession, scope: Scope, state: str, page: int = 1, category: str = ""
) -> Page:
    """One page of requests in `state` (open ones when empty), the vulnerable first, then oldest."""
    query = scoped(
        select(ServiceRequest, Household).join(
            Household, Household.id == ServiceRequest.household_id
        ),
        scope,
        ServiceRequest.region_code,
    )
    if state:
        query = query.where(ServiceRequest.state == state)
    else:
        query = query.where(ServiceRequest.state.in_(OPEN))
    if category:
        query = query.where(in_category(category))
    order = (first(Household), ServiceRequest.created_at, ServiceRequest.id)
    return await paged(session, query.order_by(*order), page, scalars=False)


async def new_requests(session: AsyncSession, scope: Scope, limit: int) -> Page:
    """Requests of the scope nobody has taken up yet (diajukan), oldest first: the first `limit`."""
    query = scoped(
        select(ServiceRequest, Household)
        .join(Household, Household.id == ServiceRequest.household_id)
        .where(ServiceRequest.state == "diajukan"),
        scope,
        ServiceRequest.region_code,
    )
    order = (ServiceRequest.created_at, ServiceRequest.id)
    return await paged(session, query.order_by(*order), 1, scalars=False, size=limit)


async def get(session: AsyncSession, scope: Scope, request_id: int) -> ServiceRequest:
    """One request of the scope, or NotFound."""
    row = await session.scalar(
        scoped(
            select(ServiceRequest).where(ServiceRequest.id == request_id),
            scope,
            ServiceRequest.region_code,
        )
    )
    if row is None:
        raise NotFound(request_id)
    return row


async def history(session: AsyncSession, request_id: int) -> list[RequestEvent]:
    """The steps of a request already read through a scope."""
    return list(
        await session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == request_id)
            .order_by(RequestEvent.at, RequestEvent.id)
        )
    )
