"""`python -m bench [NAME…] [--postgres URL]`: run every bench/bench_*.py, print a table, save JSON.

Each module exposes `run() -> list[dict]`; a result names its `bench` and `case` and carries
numbers (seconds, rows/s, a ratio to a baseline measured in the same run). Nothing here
asserts a time: benchmarks report, tests judge.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "results.json"


def modules(names: list[str]) -> list[str]:
    """The bench modules to run: all of them, or those whose name contains one of `names`."""
    found = sorted(p.stem for p in HERE.glob("bench_*.py"))
    return [m for m in found if not names or any(n in m for n in names)]


def run_all(names: list[str]) -> list[dict[str, Any]]:
    """Run each module; a failing module is reported as such and the others still run."""
    results: list[dict[str, Any]] = []
    for name in modules(names):
        started = time.perf_counter()
        try:
            rows = importlib.import_module(f"bench.{name}").run()
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            rows = [{"bench": name, "case": "FAILED", "error": f"{type(exc).__name__}: {exc}"}]
        for row in rows:
            row.setdefault("bench", name.removeprefix("bench_"))
        results.extend(rows)
        print(f"# {name}: {time.perf_counter() - started:.1f} s", flush=True)
    return results


def table(results: list[dict[str, Any]]) -> str:
    """The results as an aligned text table, one row per result."""
    columns: list[str] = []
    for row in results:
        columns += [k for k in row if k not in columns]
    cells = [[_cell(row.get(c)) for c in columns] for row in results]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    """Numbers short and readable."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"
    return str(value)


def main() -> None:
    """Parse the arguments, run, print and save."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "names", nargs="*", help="run only modules whose name contains one of these"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also measure on this PostgreSQL (a scratch database "
        "is created beside it and dropped)",
    )
    args = parser.parse_args()
    if args.postgres:
        os.environ["SINERGI_BENCH_POSTGRES_URL"] = args.postgres
    load = os.getloadavg()  # other work on the machine skews wall-clock times: say how busy it was
    results = run_all(args.names)
    print(table(results))
    print(
        f"# load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }
    OUT.write_text(json.dumps({"machine": machine, "results": results}, indent=2, default=str))
    print(f"# written to {OUT.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
