"""Foundation figures: gazetteer cold start, lookups/s, seed ingest, peak memory.

Run with ``make bench`` (or ``python bench/bench_foundation.py``). Prints the
figures; asserts nothing. Targets (issue #2): cold start < 2 s after the first
build, >= 20,000 lookups/s, seed ingest < 1 s warm, peak memory < 500 MB.
"""

from __future__ import annotations

import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.config import Settings  # noqa: E402
from pipelines.gazetteer.build import ensure_index  # noqa: E402
from pipelines.gazetteer import open_gazetteer
from pipelines.pipeline import Pipeline  # noqa: E402

SEED = Path(os.environ.get("EVENT_ATLAS_SHARED") or ROOT.parent / "shared") / "corpus" / "seed" / "belgorod-incursion-2023-05.txt"
FALLBACK_ARTICLE = ROOT / "geodata" / "examples" / "belgorod-raid-2023-05.md"


def cold_start_seconds() -> float:
    """A new process: open the index and answer one lookup."""
    code = (
        "import time; t=time.perf_counter();"
        "from pipelines.config import Settings; from pipelines.gazetteer import open_gazetteer;"
        "g=open_gazetteer(Settings.from_env()); g.geocode('Kozinka', near='Belgorod Oblast');"
        "print(time.perf_counter()-t)"
    )
    runs = [float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout) for _ in range(3)]
    return statistics.median(runs)


def sample_names(index_path: Path, n: int = 1000) -> list[str]:
    conn = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
    names = [r[0] for r in conn.execute("SELECT name FROM places WHERE feature_class='P' AND name != 'Kozinka'")]
    conn.close()
    random.Random(7).shuffle(names)
    return names[:n]


def main() -> None:
    settings = Settings.from_env()
    t = time.perf_counter()
    ensure_index(settings.gazetteer_path, settings.overlay_path)
    build_or_open = time.perf_counter() - t
    print(f"index ready in {build_or_open:.2f} s ({settings.gazetteer_path}, "
          f"{settings.gazetteer_path.stat().st_size / 1e6:.0f} MB)")

    print(f"gazetteer cold start (new process, open + first lookup): {cold_start_seconds():.3f} s")

    names = sample_names(settings.gazetteer_path)
    geocoder = open_gazetteer(settings)  # fresh: no answer cached yet
    geocoder.geocode("Kozinka", near="Belgorod Oblast")  # opening is the cold-start figure above
    t = time.perf_counter()
    found = sum(1 for name in names if geocoder.geocode(name) is not None)
    elapsed = time.perf_counter() - t
    print(f"lookups: {len(names)} distinct names in {elapsed:.3f} s = {len(names) / elapsed:,.0f} lookups/s "
          f"(cold, {found} found)")
    t = time.perf_counter()
    for name in names:
        geocoder.geocode(name)
    elapsed = time.perf_counter() - t
    print(f"lookups again (warm cache): {len(names) / elapsed:,.0f} lookups/s")

    article = SEED if SEED.exists() else FALLBACK_ARTICLE
    pipeline = Pipeline(settings, geocoder=geocoder)
    from datetime import date

    timings = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(5):
            store = str(Path(tmp) / f"events{i}.gpkg")
            t = time.perf_counter()
            report = pipeline.ingest_paths([str(article)], published=date(2023, 5, 23), store=store)
            timings.append(time.perf_counter() - t)
    print(f"seed ingest ({article.name}): first {timings[0]:.3f} s, warm median {statistics.median(timings[1:]):.3f} s "
          f"({report.added} events, {report.unresolved} unresolved)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (this process): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
