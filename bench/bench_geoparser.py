"""Geoparser figures on the shared gold corpora (LGL, GeoVirus), offline.

Prints, per corpus, the ``evaluate`` metrics (recognition P/R/F1,
accuracy@161 km, median error, end to end) with and without demonyms scored
as toponyms (LGL annotates "American" as the US; GeoVirus does not), the
documents per second on one core, and the process's peak memory.
Targets (issue #3): F1 >= 0.80 and accuracy@161 km >= 0.85 on each corpus,
>= 50 docs/s, peak memory < 800 MB.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.config import Settings  # noqa: E402
from pipelines.evaluation import Scores, score_document  # noqa: E402
from pipelines.extract import Document, extract_document  # noqa: E402
from pipelines.gazetteer import open_gazetteer  # noqa: E402
from pipelines.geoparse import Geoparser  # noqa: E402

CORPORA = Path(os.environ.get("EVENT_ATLAS_SHARED") or ROOT.parent / "shared") / "corpus" / "geoparsing"


def main() -> int:
    if not CORPORA.exists():
        print(f"{CORPORA} is not here: nothing to measure")
        return 1
    t = time.perf_counter()
    geoparser = Geoparser(open_gazetteer(Settings.from_env()))
    geoparser.parse("Warm-up in Kyiv.")
    print(f"geoparser ready in {time.perf_counter() - t:.2f} s")
    for name in ("lgl", "geovirus"):
        lines = (CORPORA / f"{name}.jsonl").read_text(encoding="utf-8").split("\n")
        gold = [json.loads(line) for line in lines if line.strip()]
        started = time.perf_counter()
        predicted = {d["id"]: extract_document(geoparser, Document(d["id"], d["text"]))["mentions"] for d in gold}
        elapsed = time.perf_counter() - started
        size = sum(len(d["text"]) for d in gold) / len(gold)
        print(f"\n{name}: {len(gold)} documents (mean {size / 1000:.1f} kB), "
              f"{len(gold) / elapsed:.0f} documents/s on one core")
        for kinds in (("place", "country", "qualifier"), ("place", "country", "demonym", "qualifier"), ("place", "country")):
            s = Scores()
            for d in gold:
                score_document(d["toponyms"], [m for m in predicted[d["id"]] if m["kind"] in kinds], s)
            print(f"  scored kinds {'+'.join(kinds):<22} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}  "
                  f"acc@161km {s.accuracy_161:.3f}  median {s.median_error_km:.1f} km  end-to-end {s.end_to_end:.3f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (this process): {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
