"""Exports as files: CSV (UTF-8 with BOM, so Excel reads it) and XLSX with one sheet, never a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.admin.deps import Staff
from storage import audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# OWASP's CSV-injection rule: a cell starting with one of these is read as a formula by Excel,
# LibreOffice and Sheets (and openpyxl writes `=…` as a live formula).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: object) -> object:
    """The cell as data: text that a spreadsheet would run as a formula gets a leading `'`."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _neutral_row(row: Sequence[object]) -> list[object]:
    """A row with every cell neutralised."""
    return [neutral(cell) for cell in row]


def csv_response(
    header: Sequence[str], rows: Sequence[Sequence[object]], filename: str
) -> Response:
    """The table as a CSV download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_neutral_row(header))
    writer.writerows(_neutral_row(row) for row in rows)
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def xlsx_response(
    header: Sequence[str], rows: Sequence[Sequence[object]], filename: str, sheet: str
) -> Response:
    """The table as a workbook download with one sheet."""
    book = Workbook(write_only=True)
    page = book.create_sheet(sheet)
    page.append(_neutral_row(header))
    for row in rows:
        page.append(_neutral_row(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def audit_export(
    session: AsyncSession, staff: Staff, now: datetime, *, rows: int, format: str, **detail: Any
) -> None:
    """Every export is an audit event: who, how many rows, which format and filters."""
    audit.record(
        session,
        actor=staff.username,
        action="export",
        now=now,
        region_code=staff.region_code,
        rows=rows,
        format=format,
        **detail,
    )
