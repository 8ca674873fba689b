"""Catalog upkeep: extract, update, add translations, check completeness.

    python -m locales.catalog update            extract every _() and N_() and update id/en
    python -m locales.catalog translate F.json  merge {"English msgid": "Indonesian"} into id
    python -m locales.catalog check             list untranslated or fuzzy Indonesian entries

Every command holds a file lock, so several people (or helpers) can run it at once safely.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
LOCK = LOCALES / ".catalog.lock"


def po_path(locale: str) -> Path:
    """Where a locale's catalog lives."""
    return LOCALES / locale / "LC_MESSAGES" / "messages.po"


@contextmanager
def locked() -> Iterator[None]:
    """One catalog change at a time."""
    with LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _pybabel(*args: str) -> None:
    """Run pybabel from this environment."""
    subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "babel.messages.frontend", *args],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def update() -> None:
    """Extract messages and merge them into both catalogs (new ones start untranslated)."""
    _pybabel(
        "extract",
        "-F",
        "locales/babel.cfg",
        "-k",
        "_",
        "-k",
        "N_",
        "-k",
        "ngettext:1,2",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "-o",
        str(POT),
        ".",
    )
    for locale in ("id", "en"):
        if po_path(locale).exists():
            _pybabel(
                "update",
                "-i",
                str(POT),
                "-d",
                "locales",
                "-l",
                locale,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
                "--no-wrap",
            )
        else:
            _pybabel("init", "-i", str(POT), "-d", "locales", "-l", locale, "--no-wrap")


def _read(locale: str) -> Catalog:
    with po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def _write(locale: str, catalog: Catalog) -> None:
    with po_path(locale).open("wb") as handle:
        write_po(handle, catalog, no_location=True, sort_output=True, width=0, omit_header=False)


def translate(pairs: dict[str, str]) -> int:
    """Set Indonesian translations for existing msgids; returns how many were set."""
    catalog = _read("id")
    count = 0
    for msgid, text in pairs.items():
        message = catalog.get(msgid)
        if message is None:
            print(f"not in catalog (run update first): {msgid[:60]!r}", file=sys.stderr)
            continue
        message.string, message.flags = text, set(message.flags) - {"fuzzy"}
        count += 1
    _write("id", catalog)
    return count


def missing() -> list[str]:
    """Indonesian msgids without a translation, or marked fuzzy."""
    return [str(m.id) for m in _read("id") if m.id and (not m.string or m.fuzzy)]


def main(argv: list[str]) -> int:
    """The command line."""
    command = argv[0] if argv else "check"
    with locked():
        if command == "update":
            update()
        elif command == "translate":
            print(f"{translate(json.loads(Path(argv[1]).read_text()))} translations set")
        todo = missing()
    for msgid in todo:
        print(f"untranslated: {msgid!r}")
    return 1 if command == "check" and todo else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
