"""`sinergi import households|mentors|programs|organisations FILE [--dry-run]`: rosters from CSV or XLSX."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot.commands.common import migrated_runtime, run, settings, setup_logging
from bot.workers import utcnow
from locales.i18n import _, use_locale
from storage.db import unit_of_work
from storage.roster import ImportReport, Problem, import_roster

app = typer.Typer(
    help="Import rosters (CSV or XLSX); see INTERFACES.md, section Rosters.", no_args_is_help=True
)
FILE = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV or XLSX file")
DRY_RUN = typer.Option(False, "--dry-run", help="validate and report only; write nothing")


@app.command("households")
def households(file: Path = FILE, dry_run: bool = DRY_RUN) -> None:
    """Import households (KPM), keyed on no_kk."""
    import_file("households", file, dry_run)


@app.command("mentors")
def mentors(file: Path = FILE, dry_run: bool = DRY_RUN) -> None:
    """Import mentors (pendamping), keyed on no_hp."""
    import_file("mentors", file, dry_run)


@app.command("programs")
def programs(file: Path = FILE, dry_run: bool = DRY_RUN) -> None:
    """Import program enrollments, keyed on no_kk, program and periode."""
    import_file("programs", file, dry_run)


@app.command("organisations")
def organisations(file: Path = FILE, dry_run: bool = DRY_RUN) -> None:
    """Import organisations that receive referrals (offices, cooperatives), keyed on kode."""
    import_file("organisations", file, dry_run)


def import_file(kind: str, file: Path, dry_run: bool) -> None:
    """Run one import in one transaction, print the report, exit 1 when a row was rejected."""
    setup_logging()
    cfg = settings()

    async def main() -> ImportReport:
        rt = await migrated_runtime(cfg)
        try:
            with use_locale(cfg.default_locale), progress_bar(file) as advance:
                async with unit_of_work(rt.sessions) as session:
                    return await import_roster(
                        session,
                        kind,
                        file,  # streamed: a million rows never sit in memory
                        file.name,
                        vault=rt.vault,
                        now=utcnow(),
                        dry_run=dry_run,
                        progress=advance,
                    )
        finally:
            await rt.close()

    report = run(main)
    with use_locale(cfg.default_locale):
        for line in report_lines(report):
            typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


@contextmanager
def progress_bar(file: Path) -> Iterator[Callable[[int], None]]:
    """On a terminal, a bar of the rows checked and saved so far (a million rows take minutes);
    elsewhere (a pipe, a log) nothing. A CSV's rows are its lines; an XLSX's are not known."""
    console = Console(stderr=True)
    total = None
    if console.is_terminal and not file.name.lower().endswith(".xlsx"):
        total = max(0, _lines(file) - 1)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(_("Importing rows"), total=total)
        yield lambda rows: bar.advance(task, rows)


def _lines(file: Path) -> int:
    """How many lines the file has, counted a block at a time."""
    with file.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


def report_lines(report: ImportReport) -> list[str]:
    """The counts, then one line per reason, in the active language."""
    lines = [
        _("Created: {created}, updated: {updated}, rejected: {rejected}").format(
            created=report.created, updated=report.updated, rejected=report.rejected
        )
    ]
    if report.dry_run:
        lines.append(_("Dry run: nothing was saved."))
    return lines + [problem_text(p) for p in report.problems]


def problem_text(problem: Problem) -> str:
    """`baris 7: NIK harus 16 angka`, or `file: …` for the file as a whole."""
    reason = _(problem.msgid).format(**problem.params)
    if problem.line == 0:
        return _("file: {reason}").format(reason=reason)
    return _("line {line}: {reason}").format(line=problem.line, reason=reason)
