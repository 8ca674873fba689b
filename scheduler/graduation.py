"""The graduation path as jobs: households move forward on evidence, and back on relapse signals.

`advance_stages` and `watch_relapse` are plain async functions of (session, now) that the tick
runs. Each rule is one INSERT … SELECT of the moves (or signals) it makes and one UPDATE of the
stages those rows name, so nothing loops over households; the unique keys on transitions
(household, stage, moment) and signals (household, kind, period) make a repeated tick a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from handlers import notices
from storage.graduation import insert_of, month_of, office_day
from storage.graduation_rules import (
    RANK,
    RULES,
    Advance,
    Rules,
    Setback,
    back_stage,
)
from storage.models import (
    Escalation,
    GraduationStage,
    Household,
    LadderState,
    ProgramEnrollment,
    ProgressReport,
    RelapseSignal,
    ServiceRequest,
    StageTransition,
)

GS, ST, HH, PE, PR, SR = (
    GraduationStage,
    StageTransition,
    Household,
    ProgramEnrollment,
    ProgressReport,
    ServiceRequest,
)
RS = RelapseSignal
log = logging.getLogger("sinergi.scheduler")
DONE = ("complete", "partial")
# One graduation job at a time on PostgreSQL: a second clock waits, then finds nothing left to do.
LOCK_KEY = 7_020_611


async def _serialize(session: AsyncSession) -> None:
    """Hold the graduation lock until this unit of work ends (SQLite serialises writers anyway)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def _count(result: Any) -> int:
    """Rows a statement touched."""
    return int(getattr(result, "rowcount", 0) or 0)


# Seeding -------------------------------------------------------------------------------------


async def seed(session: AsyncSession, now: datetime, rules: Rules = RULES) -> int:
    """Households newly in an empowerment program (or asking for training or a cooperative) join the path."""
    on_path = or_(
        exists().where(PE.household_id == HH.id, PE.program.in_(rules.empowerment_programs)),
        exists().where(SR.household_id == HH.id, SR.kind.in_(("pelatihan", "koperasi"))),
        exists().where(PR.household_id == HH.id, PR.status.in_(DONE)),
    )
    source = select(
        HH.id,
        literal("penerima_bansos"),
        literal(0),
        literal(office_day(now), GS.since.type),
        literal(now, GS.since_at.type),
        HH.desil,
        literal(now, GS.updated_at.type),
    ).where(on_path, ~exists().where(GS.household_id == HH.id))
    stmt = (
        insert_of(session, GS)
        .from_select(
            ["household_id", "stage", "rank", "since", "since_at", "desil_seen", "updated_at"],
            source,
        )
        .on_conflict_do_nothing(index_elements=["household_id"])
        .returning(GS.household_id)
    )
    # psycopg reports no row count for INSERT … SELECT … ON CONFLICT; the returned ids are exact.
    return len((await session.scalars(stmt)).all())


# Evidence for a step forward ----------------------------------------------------------------


def _after_setback(column: Any) -> ColumnElement[bool]:
    """Evidence counts only when it is newer than the household's last step back."""
    return or_(GS.setback_at.is_(None), column > GS.setback_at)


def _first(query: Any) -> Any:
    """A correlated scalar subquery: the first matching row's description."""
    return query.limit(1).correlate(GS).scalar_subquery()


def _request(kind: str, states: Sequence[str]) -> tuple[ColumnElement[bool], Any]:
    """A request of this kind in one of `states` (condition, and its reference and state)."""
    where = and_(
        SR.household_id == GS.household_id,
        SR.kind == kind,
        SR.state.in_(states),
        _after_setback(SR.updated_at),
    )
    return exists().where(where), _first(
        select(SR.reference + literal(" ") + SR.state).where(where)
    )


def _program(program: str, states: Sequence[str]) -> tuple[ColumnElement[bool], Any]:
    """An enrollment in `program` with one of `states` (condition, and its description)."""
    where = and_(
        PE.household_id == GS.household_id,
        PE.program == program,
        PE.status.in_(states),
        _after_setback(PE.updated_at),
    )
    return exists().where(where), _first(
        select(
            PE.program + literal(" ") + PE.status + literal(" (") + PE.period + literal(")")
        ).where(where)
    )


def _either(
    a: tuple[ColumnElement[bool], Any], kind_a: str, b: tuple[ColumnElement[bool], Any], kind_b: str
) -> tuple[ColumnElement[bool], Any, Any]:
    """Evidence of one of two kinds: condition, kind and detail of the first that holds."""
    return or_(a[0], b[0]), case((a[0], kind_a), else_=kind_b), case((a[0], a[1]), else_=b[1])


def months_back(month: str, count: int) -> list[str]:
    """`count` report periods ending at `month`, newest first: 2026-11, 2026-10, …"""
    year, number = int(month[:4]), int(month[5:7])
    out = []
    for _step in range(count):
        out.append(f"{year:04d}-{number:02d}")
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return out


def _running(now: datetime, rules: Rules) -> tuple[ColumnElement[bool], Any, Any]:
    """N monthly reports in a row with the business running, ending this month or the last."""
    n = rules.reports_running
    periods = months_back(month_of(now), n + 1)
    windows = [periods[:n], periods[1:]]

    def running_in(window: list[str]) -> Any:
        return (
            select(func.count(func.distinct(PR.period)))
            .where(
                PR.household_id == GS.household_id,
                PR.period.in_(window),
                PR.status.in_(DONE),
                PR.business_state == "berjalan",
                _after_setback(PR.submitted_at),
            )
            .correlate(GS)
            .scalar_subquery()
        )

    held = [running_in(w) >= n for w in windows]
    details = [literal(", ".join(sorted(w))) for w in windows]
    return or_(*held), literal("reports"), case((held[0], details[0]), else_=details[1])


def evidence(name: str, now: datetime, rules: Rules) -> tuple[ColumnElement[bool], Any, Any]:
    """The SQL of one kind of evidence: condition, evidence kind and detail."""
    if name == "pelatihan":
        return _either(
            _request("pelatihan", rules.training_request_states),
            "request",
            _program("PELATIHAN", rules.training_program_states),
            "program",
        )
    if name == "rintisan":
        report_where = and_(
            PR.household_id == GS.household_id, PR.status.in_(DONE), _after_setback(PR.submitted_at)
        )
        first_report = (
            exists().where(report_where),
            _first(select(PR.period).where(report_where).order_by(PR.period)),
        )
        return _either(
            _program("BANTUAN_USAHA", rules.package_program_states),
            "program",
            first_report,
            "reports",
        )
    if name == "berjalan":
        return _running(now, rules)
    if name == "koperasi":
        return _either(
            _request("koperasi", rules.coop_request_states),
            "request",
            _program("KOPERASI", rules.coop_program_states),
            "program",
        )
    raise ValueError(f"unknown evidence {name!r}")


async def _advance(session: AsyncSession, rule: Advance, now: datetime, rules: Rules) -> int:
    """Record the moves this rule makes, then put those households on the new stage."""
    held, kind, detail = evidence(rule.evidence, now, rules)
    source = (
        select(
            GS.household_id,
            HH.region_code,
            GS.stage,
            literal(rule.to),
            literal("forward"),
            literal(now, ST.at.type),
            literal(office_day(now), ST.on_date.type),
            kind,
            detail,
            literal("system"),
        )
        .join(HH, HH.id == GS.household_id)
        .where(GS.stage.in_(rule.from_stages), held)
    )
    await _record_transitions(session, source)
    moved = exists().where(
        ST.household_id == GS.household_id,
        ST.to_stage == rule.to,
        ST.at == now,
        ST.from_stage == GS.stage,
    )
    result = await session.execute(
        update(GS)
        .where(GS.stage.in_(rule.from_stages), moved)
        .values(
            stage=rule.to,
            rank=RANK[rule.to],
            since=office_day(now),
            since_at=now,
            risk_since=None,
            risk_reason=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return _count(result)


async def advance_stages(session: AsyncSession, now: datetime, rules: Rules = RULES) -> int:
    """New households join the path; households with new evidence move forward, step by step."""
    await _serialize(session)
    moved = await seed(session, now, rules)
    for rule in rules.advances:
        moved += await _advance(session, rule, now, rules)
    return moved


# Relapse signals -----------------------------------------------------------------------------


def _watched(rule: Setback, today: date) -> ColumnElement[bool]:
    """The household is at a stage this signal applies to (a mandiri one only in its watch year)."""
    return and_(
        GS.stage.in_(rule.stages),
        or_(GS.stage != "mandiri", GS.watch_until.is_(None), GS.watch_until >= today),
    )


def _report_signal(
    rule: Setback, now: datetime, rules: Rules, condition: ColumnElement[bool], detail: Any
) -> Any:
    """Signals read from reports sent since the household reached its stage (one per report month)."""
    return (
        select(GS.household_id, literal(rule.kind), PR.period, GS.stage, detail)
        .join(PR, PR.household_id == GS.household_id)
        .where(
            PR.status.in_(DONE),
            PR.submitted_at > GS.since_at,
            PR.submitted_at >= now - timedelta(days=rules.report_lookback_days),
            condition,
        )
    )


def signal_source(rule: Setback, now: datetime, rules: Rules) -> Any:
    """SELECT (household, kind, period, stage, detail) of the households showing this signal now."""
    month, today = literal(month_of(now)), office_day(now)
    if rule.kind == "usaha_berhenti":
        query = _report_signal(
            rule, now, rules, PR.business_state.in_(("berhenti", "tutup")), PR.business_state
        )
    elif rule.kind == "omzet_turun":
        # The reports module flags a second fall in a row when the report is sent.
        query = _report_signal(
            rule, now, rules, cast(PR.flags, String).like('%"omzet_turun"%'), cast(PR.omzet, String)
        )
    elif rule.kind == "koperasi_lepas":
        lapsed = and_(
            PE.household_id == GS.household_id,
            PE.program == "KOPERASI",
            PE.status.in_(rules.coop_lapsed_states),
            PE.updated_at > GS.since_at,
        )
        detail = _first(select(PE.status + literal(" (") + PE.period + literal(")")).where(lapsed))
        query = select(GS.household_id, literal(rule.kind), month, GS.stage, detail).where(
            exists().where(lapsed), ~_koperasi_renewed(rules)
        )
    elif rule.kind == "senyap":
        silent = or_(
            exists().where(
                LadderState.household_id == GS.household_id, LadderState.rung == "dinsos"
            ),
            exists().where(
                Escalation.household_id == GS.household_id,
                Escalation.reason == "silent",
                Escalation.state.in_(("open", "assigned")),
            ),
        )
        query = select(GS.household_id, literal(rule.kind), month, GS.stage, null()).where(silent)
    elif rule.kind == "desil_turun":
        query = (
            select(
                GS.household_id,
                literal(rule.kind),
                month,
                GS.stage,
                cast(GS.desil_seen, String) + literal(" → ") + cast(HH.desil, String),
            )
            .join(HH, HH.id == GS.household_id)
            .where(HH.desil < GS.desil_seen)
        )
    elif rule.kind == "kembali_bansos":
        where = and_(
            PE.household_id == GS.household_id,
            PE.program.in_(rules.bansos_programs),
            PE.status.in_(rules.bansos_active_states),
            PE.as_of > GS.since,
        )
        detail = _first(
            select(
                PE.program + literal(" ") + PE.status + literal(" (") + PE.period + literal(")")
            ).where(where)
        )
        query = select(GS.household_id, literal(rule.kind), month, GS.stage, detail).where(
            exists().where(where)
        )
    else:
        raise ValueError(f"unknown signal {rule.kind!r}")
    return query.where(_watched(rule, today))


def _koperasi_renewed(rules: Rules) -> ColumnElement[bool]:
    """A newer import shows the membership active again (the lapse was followed by a renewal)."""
    lapse, renewal = aliased(ProgramEnrollment), aliased(ProgramEnrollment)
    lapsed_at = (
        select(func.max(lapse.updated_at))
        .where(
            lapse.household_id == GS.household_id,
            lapse.program == "KOPERASI",
            lapse.status.in_(rules.coop_lapsed_states),
        )
        .correlate(GS)
        .scalar_subquery()
    )
    return exists().where(
        renewal.household_id == GS.household_id,
        renewal.program == "KOPERASI",
        renewal.status.in_(rules.coop_program_states),
        renewal.updated_at > lapsed_at,
    )


async def _record_signals(
    session: AsyncSession, rule: Setback, now: datetime, rules: Rules
) -> None:
    """New signals of this kind; one per household, kind and period (the unique key drops repeats)."""
    source = signal_source(rule, now, rules).add_columns(literal(now, RS.at.type))
    stmt = (
        insert_of(session, RS)
        .from_select(["household_id", "kind", "period", "stage", "detail", "at"], source)
        .on_conflict_do_nothing(index_elements=["household_id", "kind", "period"])
    )
    await session.execute(stmt)


async def _set_back(session: AsyncSession, rule: Setback, now: datetime) -> int:
    """Households with a new signal of this kind go back a stage (recorded) and onto the at-risk list."""
    targets = {stage: back_stage(rule, stage) for stage in rule.stages}
    lower = {stage: to for stage, to in targets.items() if to != stage}
    fresh = exists().where(RS.household_id == GS.household_id, RS.kind == rule.kind, RS.at == now)
    moved = 0
    if lower:
        to_stage = case(lower, value=GS.stage)
        source = (
            select(
                GS.household_id,
                HH.region_code,
                GS.stage,
                to_stage,
                literal("back"),
                literal(now, ST.at.type),
                literal(office_day(now), ST.on_date.type),
                literal("signal"),
                literal(rule.kind),
                literal("system"),
            )
            .join(HH, HH.id == GS.household_id)
            .where(GS.stage.in_(list(lower)), fresh)
        )
        await _record_transitions(session, source)
        recorded = exists().where(
            ST.household_id == GS.household_id,
            ST.at == now,
            ST.direction == "back",
            ST.from_stage == GS.stage,
            ST.to_stage == to_stage,
        )
        rank = case({stage: RANK[to] for stage, to in lower.items()}, value=GS.stage)
        result = await session.execute(
            update(GS)
            .where(GS.stage.in_(list(lower)), recorded)
            .values(
                stage=to_stage,
                rank=rank,
                since=office_day(now),
                since_at=now,
                setback_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        moved = _count(result)
    await session.execute(
        update(GS)
        .where(fresh)
        .values(risk_since=func.coalesce(GS.risk_since, now), risk_reason=rule.kind, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return moved


async def _remember_desil(session: AsyncSession) -> None:
    """Keep the desil of this import, so the next import is compared with it."""
    await session.execute(
        update(GS)
        .where(
            GS.household_id == HH.id,
            HH.desil.is_not(None),
            or_(GS.desil_seen.is_(None), GS.desil_seen != HH.desil),
        )
        .values(desil_seen=HH.desil)
        .execution_options(synchronize_session=False)
    )


async def watch_relapse(session: AsyncSession, now: datetime, rules: Rules = RULES) -> int:
    """Signals of slipping households: set back, listed as at risk, and their mentor told why."""
    await _serialize(session)
    for rule in rules.setbacks:
        await _record_signals(session, rule, now, rules)
    for rule in rules.setbacks:
        await _set_back(session, rule, now)
    await _remember_desil(session)
    return await tell_mentors(session, now)


# Telling the mentor --------------------------------------------------------------------------


async def tell_mentors(session: AsyncSession, now: datetime) -> int:
    """Each new signal goes to the household's mentor, once per household, kind and period."""
    rows = await session.execute(
        select(RS, HH, GS.stage)
        .join(HH, HH.id == RS.household_id)
        .join(GS, GS.household_id == RS.household_id)
        .where(RS.at == now, HH.mentor_id.is_not(None))
        .order_by(RS.id)
    )
    sent = 0
    for signal, household, stage in rows:
        sent += await notices.relapse_signal(session, signal, household, stage, now=now)
    return sent


# The tick ------------------------------------------------------------------------------------


TRANSITION_COLUMNS = [
    "household_id",
    "region_code",
    "from_stage",
    "to_stage",
    "direction",
    "at",
    "on_date",
    "evidence_kind",
    "evidence_detail",
    "confirmed_by",
]


async def _record_transitions(session: AsyncSession, source: Any) -> None:
    """Insert the transitions `source` selects (columns in TRANSITION_COLUMNS order), once each."""
    await session.execute(
        insert_of(session, ST)
        .from_select(TRANSITION_COLUMNS, source)
        .on_conflict_do_nothing(index_elements=["household_id", "to_stage", "at"])
    )
