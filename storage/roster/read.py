"""Reading a roster file, streamed: CSV (UTF-8, BOM allowed, comma or semicolon) or the first sheet of an XLSX."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, cast

from defusedxml import DefusedXmlException

from storage.roster.report import N_, RosterFileError

Row = tuple[int, dict[str, str]]  # (line number in the file, cells by lower-case header)
Table = tuple[list[str], Iterator[Row]]  # the header keys, then the data rows
Source = bytes | Path  # an upload in memory, or a file streamed from disk
UTF8_BLOCK = 1 << 20  # bytes decoded at a time by the UTF-8 pre-check


def open_roster(source: Source, filename: str) -> Table:
    """The header and the data rows with their line numbers; blank rows are skipped.

    A path is streamed (CSV line by line, XLSX in read-only mode): a million rows never sit in
    memory at once. The file is opened here and closed when its rows are exhausted or dropped.
    """
    head = _head(source)
    if filename.lower().endswith(".xlsx") or head == b"PK\x03\x04":
        rows = _xlsx_rows(source)
    elif filename.lower().endswith(".xls") or head == b"\xd0\xcf\x11\xe0":
        raise RosterFileError(
            N_("Old Excel files (.xls) are not read: save the file as XLSX or CSV.")
        )
    else:
        rows = _csv_rows(source)
    first = next(rows)  # the header: a file that cannot be read says so here, before any row
    assert isinstance(first, list)
    return first, cast(Iterator[Row], rows)


def _head(source: Source) -> bytes:
    """The file's first four bytes, which say whether it is a zip (XLSX) or an old Excel file."""
    if isinstance(source, bytes):
        return source[:4]
    with source.open("rb") as handle:
        return handle.read(4)


def _binary(source: Source) -> BinaryIO:
    """The file as a binary stream (bytes are wrapped, never copied)."""
    return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")


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


def _check_utf8(source: Source) -> None:
    """Refuse a file that is not UTF-8 before any row is written (read in blocks: memory stays flat)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with _binary(source) as handle:
        try:
            while block := handle.read(UTF8_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise RosterFileError(
                N_("The file is not UTF-8 text: save it as “CSV UTF-8” or XLSX.")
            ) from exc


def _csv_rows(source: Source) -> Iterator[list[str] | Row]:
    """The header keys, then the non-blank rows; the separator is whichever of `;` and `,` the
    header line uses more. `line_num` counts physical lines, so quoted line breaks are right."""
    _check_utf8(source)
    with io.TextIOWrapper(_binary(source), encoding="utf-8-sig", newline="") as text:
        first_line = text.readline()
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        reader = csv.reader(chain([first_line], text), delimiter=delimiter)
        try:
            header = next(reader, None)
            if header is None:
                raise RosterFileError(N_("The file is empty."))
            keys = [header_key(h) for h in header]
            yield keys
            for cells in reader:
                if any(c.strip() for c in cells):
                    yield reader.line_num, _cells(keys, cells)
        except (
            csv.Error
        ) as exc:  # a NUL byte or a field past the size limit: the rest is unreadable
            raise RosterFileError(
                N_("Line {line} cannot be read; the rest of the file was skipped."),
                line=reader.line_num,
            ) from exc


UNREADABLE_XLSX = N_("The Excel file cannot be opened; is it really XLSX?")


def _xlsx_rows(source: Source) -> Iterator[list[str] | Row]:
    """The header keys, then the non-blank rows of the first sheet, numbered as Excel numbers them.

    Read-only mode keeps memory flat on big files; openpyxl parses through defusedxml when it is
    installed (a dependency): an entity or a DTD in any part of the file (billion laughs,
    external entities) refuses the file instead of expanding.
    """
    import openpyxl  # only XLSX imports need it

    if (
        not openpyxl.DEFUSEDXML
    ):  # OPENPYXL_DEFUSEDXML=False in the environment: refuse, never parse raw
        raise RuntimeError("openpyxl must parse through defusedxml; unset OPENPYXL_DEFUSEDXML")
    try:
        book = openpyxl.load_workbook(_binary(source), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, DefusedXmlException) as exc:
        raise RosterFileError(UNREADABLE_XLSX) from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise RosterFileError(N_("The file is empty."))
        keys = [header_key(h) for h in header]
        yield keys
        for line, values in enumerate(rows, start=2):
            cells = [cell_text(v) for v in values]
            if any(cells):
                yield line, _cells(keys, cells)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, DefusedXmlException) as exc:
        raise RosterFileError(UNREADABLE_XLSX) from exc  # found while streaming the sheet
    finally:
        book.close()


def _cells(keys: list[str], cells: list[str]) -> dict[str, str]:
    """Cells by header; unknown columns are kept but nobody asks for them."""
    return {key: (cells[i].strip() if i < len(cells) else "") for i, key in enumerate(keys) if key}
