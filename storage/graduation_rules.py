"""The graduation path as data: the stages in order, what evidence moves a household, what sets it back.

Numbers a programme may want to change (reports in a row, the watch period, when a referral
is overdue) are settings (`bot.config`); the rest is this table, read by the jobs in
`scheduler/graduation.py` and by the views. The names people read are in `handlers/labels.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

STAGES = (
    "penerima_bansos",
    "pelatihan",
    "usaha_rintisan",
    "usaha_berjalan",
    "anggota_koperasi",
    "mandiri",
)
RANK = {stage: rank for rank, stage in enumerate(STAGES)}


@dataclass(frozen=True)
class Advance:
    """A forward rule: households at one of `from_stages` with this evidence move to `to`."""

    to: str
    from_stages: tuple[str, ...]
    evidence: str  # pelatihan | rintisan | berjalan | koperasi (the job knows each one's SQL)


@dataclass(frozen=True)
class Setback:
    """A relapse rule: households at `stages` with this signal go back to `back_to` (or one step)."""

    kind: str
    stages: tuple[str, ...]
    back_to: str | None = None  # None: one stage back


@dataclass(frozen=True)
class Rules:
    """Everything the graduation jobs and views need to know about the path."""

    reports_running: int = 3  # monthly reports in a row with the business running
    watch_months: int = 12  # how long a mandiri household is watched
    report_lookback_days: int = 62  # reports older than this are not read for signals again
    referral_days: int = 5  # working days to answer a referral
    training_request_states: tuple[str, ...] = ("disetujui", "selesai")
    training_program_states: tuple[str, ...] = ("aktif", "selesai")
    package_program_states: tuple[str, ...] = ("disalurkan", "selesai")
    coop_request_states: tuple[str, ...] = ("disetujui", "selesai")
    coop_program_states: tuple[str, ...] = ("aktif",)
    coop_lapsed_states: tuple[str, ...] = ("tidak_aktif", "ditangguhkan")
    bansos_programs: tuple[str, ...] = ("PKH", "BPNT", "BLT")
    bansos_active_states: tuple[str, ...] = ("aktif", "dalam_proses", "disalurkan")
    empowerment_programs: tuple[str, ...] = ("BANTUAN_USAHA", "PELATIHAN", "KOPERASI")
    confirm_from: tuple[str, ...] = ("usaha_berjalan", "anggota_koperasi")
    advances: tuple[Advance, ...] = field(
        default_factory=lambda: (
            Advance("pelatihan", ("penerima_bansos",), "pelatihan"),
            Advance("usaha_rintisan", ("penerima_bansos", "pelatihan"), "rintisan"),
            Advance("usaha_berjalan", ("usaha_rintisan",), "berjalan"),
            Advance("anggota_koperasi", ("usaha_berjalan",), "koperasi"),
        )
    )
    setbacks: tuple[Setback, ...] = field(
        default_factory=lambda: (
            Setback("usaha_berhenti", STAGES[2:], back_to="usaha_rintisan"),
            Setback("omzet_turun", STAGES[3:]),
            Setback("koperasi_lepas", STAGES[4:], back_to="usaha_berjalan"),
            Setback("senyap", ("mandiri",)),
            Setback("desil_turun", STAGES[3:]),
            Setback("kembali_bansos", ("mandiri",)),
        )
    )

    @classmethod
    def from_settings(cls, settings: Any) -> Rules:
        """The rules with the numbers of `bot.config.Settings` (read by attribute)."""
        return replace(
            cls(),
            reports_running=getattr(settings, "graduation_reports_running", 3),
            watch_months=getattr(settings, "graduation_watch_months", 12),
            referral_days=getattr(settings, "referral_days", 5),
        )


RULES = Rules()


def back_stage(rule: Setback, stage: str) -> str:
    """Where a household at `stage` lands after this signal (never forward)."""
    target = RANK[rule.back_to] if rule.back_to else RANK[stage] - 1
    return STAGES[max(0, min(RANK[stage], target))]
