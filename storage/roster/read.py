"""Reading a roster file: CSV (UTF-8, BOM allowed, comma or semicolon) or the first sheet of an XLSX."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from defusedxml import DefusedXmlException

from storage.roster.report import N_, RosterFileError

Row = tuple[int, dict[str, str]]  # (line number in the file, cells by lower-case header)
Table = tuple[list[str], Iterator[Row]]  # the header keys, then the data rows


def open_roster(data: bytes, filename: str) -> Table:
    """The header and the data rows with their line numbers; blank rows are skipped."""
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _xlsx_table(data)
    if filename.lower().endswith(".xls") or data[:4] == b"\xd0\xcf\x11\xe0":
        raise RosterFileError(
            N_("Old Excel files (.xls) are not read: save the file as XLSX or CSV.")
        )
    return _csv_table(data)


def header_key(raw: Any) -> str:
    """`" No_KK "` → `no_kk`: headers match case-insensitively, spaces around them ignored."""
    return cell_text(raw).lower().replace(" ", "_")


def cell_text(value: Any) -> str:
    """One cell as text: Excel numbers without `.0`, Excel dates as `YYYY-MM-DD`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_table(data: bytes) -> Table:
    """CSV rows; the separator is whichever of `;` and `,` the header line uses more."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterFileError(
            N_("The file is not UTF-8 text: save it as “CSV UTF-8” or XLSX.")
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise RosterFileError(N_("The file is empty."))
    keys = [header_key(h) for h in header]
    return keys, _csv_rows(reader, keys)


def _csv_rows(reader: Any, keys: list[str]) -> Iterator[Row]:
    """The non-blank rows; `line_num` counts physical lines, so quoted line breaks are right."""
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                yield reader.line_num, _cells(keys, cells)
    except csv.Error as exc:  # a NUL byte or a field past the size limit: the rest is unreadable
        raise RosterFileError(
            N_("Line {line} cannot be read; the rest of the file was skipped."),
            line=reader.line_num,
        ) from exc


UNREADABLE_XLSX = N_("The Excel file cannot be opened; is it really XLSX?")


def _xlsx_table(data: bytes) -> Table:
    """The first sheet (read-only mode: memory stays flat on big files), parsed by defusedxml.

    openpyxl parses through defusedxml when it is installed (a dependency); an entity or a DTD in
    any part of the file (billion laughs, external entities) refuses the file instead of expanding.
    """
    import openpyxl  # only XLSX imports need it

    if (
        not openpyxl.DEFUSEDXML
    ):  # OPENPYXL_DEFUSEDXML=False in the environment: refuse, never parse raw
        raise RuntimeError("openpyxl must parse through defusedxml; unset OPENPYXL_DEFUSEDXML")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, DefusedXmlException) as exc:
        raise RosterFileError(UNREADABLE_XLSX) from exc
    if header is None:
        book.close()
        raise RosterFileError(N_("The file is empty."))
    keys = [header_key(h) for h in header]
    return keys, _xlsx_rows(book, rows, keys)


def _xlsx_rows(book: Any, rows: Iterator[tuple[Any, ...]], keys: list[str]) -> Iterator[Row]:
    """The non-blank rows of the sheet, numbered as Excel numbers them."""
    try:
        for line, values in enumerate(rows, start=2):
            cells = [cell_text(v) for v in values]
            if any(cells):
                yield line, _cells(keys, cells)
    except DefusedXmlException as exc:  # found past the header, while streaming the sheet
        raise RosterFileError(UNREADABLE_XLSX) from exc
    finally:
        book.close()


def _cells(keys: list[str], cells: list[str]) -> dict[str, str]:
    """Cells by header; unknown columns are kept but nobody asks for them."""
    return {key: (cells[i].strip() if i < len(cells) else "") for i, key in enumerate(keys) if key}
