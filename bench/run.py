"""Run every benchmark under ``bench/`` and print one table: each figure against its baseline.

Every ``bench/*.py`` but this file and ``rows.py`` is a benchmark: runnable alone (it prints its
own report) and taking ``--json PATH``, where it writes its rows (``rows.BenchRow``). Each one
runs in a process of its own, so one benchmark's controllers, environment and memory never weigh
on the next one's timings, and one that fails is reported while the others still run.

Writes ``bench/results.json`` (the rows) and ``bench/results.md`` (the table and the machine it
ran on, for the README's Performance section) only when every benchmark ran to its end: exit
status 1 otherwise. A missed goal is a finding, not a failure.

Run: ``make bench`` or ``.venv/bin/python bench/run.py`` (as root: some benchmarks need loop
devices, mkfs and mount, and report their rows as not run otherwise).
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from linstor_core.errors import StorageError
from linstor_core.runner import run
from rows import BenchRow, markdown_table, read_rows, write_rows

BENCH = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"run.py", "rows.py"}
TIMEOUT_S = 300.0  # per benchmark; the whole run takes about two minutes on 2 cores
FAILURE_LINES = 15  # of a failed benchmark's stderr: the traceback's end says what failed


def benchmarks() -> list[Path]:
    return sorted(path for path in BENCH.glob("*.py") if path.name not in NOT_BENCHMARKS)


def run_one(script: Path, out: Path) -> list[BenchRow]:
    """The benchmark's rows; raises ``StorageError`` (its exit status and stderr) when it fails."""
    run([sys.executable, str(script), "--json", str(out)], timeout=TIMEOUT_S)
    return read_rows(out)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(load_before: float, load_after: float) -> str:
    """One line naming what the figures were measured on, including how busy it was."""
    user = "root" if os.geteuid() == 0 else "not root"
    return (f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, run as {user}; 1-minute load average "
            f"{load_before:.1f} before, {load_after:.1f} after")


def results_markdown(rows: list[BenchRow], machine_line: str, started: datetime, seconds: float) -> str:
    return "\n".join([
        f"`make bench` on {started:%Y-%m-%d %H:%M} UTC, {seconds:.0f} s: each figure against a baseline measured "
        "in the same run (ratio = value / baseline); a goal bounds the ratio (`x`), or the value where it names "
        "a unit. The goals are the issues'; where one states none (the PVE plugin's calls and latency), the "
        "goal is to cost no more than LINBIT's call pattern (<= 1x).", "", markdown_table(rows), "",
        f"Machine: {machine_line}.", ""])


def main() -> int:
    started = datetime.now(timezone.utc)
    began, load_before = time.monotonic(), os.getloadavg()[0]
    rows: list[BenchRow] = []
    failed: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        for script in benchmarks():
            print(f"bench/{script.name} ...", end=" ", file=sys.stderr, flush=True)
            one_began = time.monotonic()
            try:
                rows += run_one(script, Path(tmp) / f"{script.stem}.json")
            except StorageError as error:
                failed.append(script)
                tail = "\n".join(error.stderr.rstrip().splitlines()[-FAILURE_LINES:])
                print(f"FAILED (exit {error.returncode}):\n{tail}", file=sys.stderr)
                continue
            print(f"{time.monotonic() - one_began:.1f} s", file=sys.stderr)
    seconds = time.monotonic() - began
    machine_line = machine(load_before, os.getloadavg()[0])
    print(markdown_table(rows))
    print(f"\nMachine: {machine_line}; {seconds:.0f} s.")
    if failed:  # the committed results always come from a complete run
        print(f"not written: bench/results.json, bench/results.md ({', '.join(p.name for p in failed)} failed)",
              file=sys.stderr)
        return 1
    write_rows(BENCH / "results.json", rows)
    (BENCH / "results.md").write_text(results_markdown(rows, machine_line, started, seconds))
    print("written: bench/results.json, bench/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
