"""What an import tells the operator: counts, and each rejected row with its line and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.normalize import region_code


def N_(message: str) -> str:
    """Marks a reason for the catalog; the CLI or the web page translates it for its reader."""
    return message


@dataclass(frozen=True)
class Problem:
    """Why one row (or the whole file, line 0) was refused: an English msgid and its parameters."""

    line: int
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportReport:
    """Rows created, updated and rejected, and the reasons; nothing was written on a dry run."""

    kind: str
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    places: dict[str, int] = field(default_factory=dict)  # region code → rows of the file

    def count_place(self, raw: str) -> None:
        """One more row of the region the file names (codes that cannot be read are left out)."""
        code = region_code(raw) if raw else None
        if code is not None:
            self.places[code] = self.places.get(code, 0) + 1

    @property
    def ok(self) -> bool:
        """True when no row and no part of the file was refused."""
        return not self.problems

    def refuse(self, line: int, reasons: list[tuple[str, dict[str, Any]]]) -> None:
        """Count one rejected row and keep its reasons."""
        self.rejected += 1
        self.problems.extend(Problem(line, msgid, params) for msgid, params in reasons)


class RosterFileError(Exception):
    """The file as a whole cannot be read (not UTF-8, not XLSX, a required column missing)."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params
