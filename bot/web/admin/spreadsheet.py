"""Exports as files: CSV (UTF-8 with BOM, so Excel reads it) and XLSX with one sheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from fastapi.responses import Response
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_response(
    header: Sequence[str], rows: Sequence[Sequence[object]], filename: str
) -> Response:
    """The table as a CSV download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
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
    page.append(list(header))
    for row in rows:
        page.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
