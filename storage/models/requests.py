"""Service requests (training, cooperative membership, data correction) and their history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, FreeText, UTCDateTime


class ServiceRequest(Base):
    """A household's request: `PL-2611-0042`, diajukan → diproses → disetujui|ditolak|dirujuk → selesai."""

    __tablename__ = "service_requests"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # pelatihan | koperasi | sanggah | hapus
    topic: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(FreeText)
    state: Mapped[str] = mapped_column(String(16), default="diajukan")
    referred_to: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(String(10), index=True)
    # `household:kind:topic` while the request is open, NULL once closed: the unique key makes
    # a second open request of the same kind and topic (two quick taps, two workers) impossible.
    open_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the law wants an answer by (HAPUS DATA: 3×24 hours, UU PDP); NULL for the others.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A data correction's outcome (storage/corrections.py): corrected | forwarded | rejected, and
    # when forwarded to the national register, the day staff expect the national data to change.
    outcome: Mapped[str | None] = mapped_column(String(16))
    expected_on: Mapped[date | None] = mapped_column(Date)
    # Who filed it, as authors are stored (`chat:12`, `mentor:3`, `staff:7`); NULL for requests
    # filed before this was kept, which all came from the family's own chat.
    filed_by: Mapped[str | None] = mapped_column(String(80))


class RequestEvent(Base):
    """One step in a request's history: who moved it, from what to what, when and why."""

    __tablename__ = "request_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(FreeText)


Index("ix_requests_state_region", ServiceRequest.state, ServiceRequest.region_code)


class Proposal(Base):
    """A family not on the roster proposed from a chat (usul): `US-2612-0001`, for the desa's office.

    diajukan → dikunjungi (visited) → didaftarkan (registered) | ditolak (declined, with a reason).
    """

    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"), index=True)
    name: Mapped[str] = mapped_column(FreeText)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    region_code: Mapped[str] = mapped_column(String(10), index=True)
    about: Mapped[str | None] = mapped_column(FreeText)
    state: Mapped[str] = mapped_column(String(16), default="diajukan")
    note: Mapped[str | None] = mapped_column(FreeText)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
