"""Reliability figures (issue #6): faults, kills, hypothesis examples, hostile strings.

Runs the reliability tests (tests/reliability/ and the hostile-text browser
tests) in a fresh pytest process, then prints the tally those tests keep in
artifacts/reliability-figures.json and how long the run took. Asserts
nothing itself; the tests do. "events lost" must be 0.

    python bench/bench_reliability.py            # or: make bench
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "artifacts" / "reliability-figures.json"
SUITES = ["tests/reliability", "tests/browser/test_dashboard_hostile.py", "tests/test_dashboard_safe.py"]


def main() -> int:
    FIGURES.unlink(missing_ok=True)
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES],
                         cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    summary = [line for line in run.stdout.splitlines() if " passed" in line or " failed" in line]
    print(f"reliability tests: {summary[-1] if summary else run.stdout[-300:]} (exit {run.returncode}, {seconds:.1f} s)")
    if not FIGURES.exists():
        print("no figures were written; the run failed early:\n" + run.stdout[-2000:] + run.stderr[-2000:])
        return 1
    figures = json.loads(FIGURES.read_text(encoding="utf-8"))
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"  {name:<{width}}  {value:>8,}")
    lost = figures.get("events lost", 0)
    print(f"events lost: {lost} ({'OK' if lost == 0 else 'EVENTS WERE LOST'})")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
