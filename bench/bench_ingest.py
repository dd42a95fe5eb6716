"""Ingest throughput on 2,000 synthetic ~2 kB articles: one process, Dask with 1
and 2 workers, and geotext as a baseline; peak memory per process.

Run with ``make bench`` (or ``python bench/bench_ingest.py [-n 2000]``). Prints
the figures with the targets of issue #5 beside them; asserts nothing.
Targets: >= 200 articles/s per core for 2 kB articles; 2 workers >= 1.7x one.

Every measurement starts with a cold lookup cache (a fresh Pipeline, fresh
Dask workers), so the rates are comparable; pipeline and cluster start-up
are timed apart from the rates. Each measurement runs --repeat times (default
3), interleaved, and the median is reported: one run varies by about 15% on
a 2-core VM. Beside each wall-clock rate is the CPU time it
took (for Dask: the workers' plus the client and scheduler process's): on a
busy shared machine the wall clock measures the neighbours too.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate_corpus import corpus  # noqa: E402
from pipelines.articles import Article  # noqa: E402
from pipelines.config import Settings  # noqa: E402
from pipelines.pipeline import Pipeline  # noqa: E402

PER_CORE_TARGET = 200.0  # articles/s per core
SPEEDUP_TARGET = 1.7  # 2 workers vs 1


@dataclass(frozen=True)
class Figure:
    what: str
    articles: int
    events: int
    seconds: float
    cores: int
    note: str = ""

    @property
    def rate(self) -> float:
        return self.articles / self.seconds

    @property
    def events_rate(self) -> float:
        return self.events / self.seconds


def peak_rss_mb() -> float:
    """Peak resident memory of the calling process, in MB.

    VmHWM is this process's own high-water mark; ru_maxrss is not used where
    VmHWM exists because a spawned Dask worker inherits its parent's
    ru_maxrss on Linux, so every worker would report the client's peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time (user + system) of the calling process, every thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def to_articles(docs: list[dict]) -> list[Article]:
    return [Article(text=d["text"], source=d["source"], title=d["title"],
                    published=date.fromisoformat(d["published"])) for d in docs]


def planted_recall(docs: list[dict], found: list[set[str]]) -> float:
    """Share of the planted place names that were found in their article."""
    planted = sum(len(d["places"]) for d in docs)
    hits = sum(sum(p["name"] in names for p in d["places"]) for d, names in zip(docs, found))
    return hits / max(planted, 1)


def bench_single(settings: Settings, articles: list[Article], docs: list[dict]) -> tuple[Figure, float, float]:
    """Pipeline.events_for over every article in this process; returns the
    figure, the gazetteer open time and the planted-place recall."""
    t = time.perf_counter()
    pipeline = Pipeline(settings)
    opened = time.perf_counter() - t
    cpu = cpu_seconds()
    t = time.perf_counter()
    results = [pipeline.events_for(a) for a in articles]
    elapsed = time.perf_counter() - t
    cpu = cpu_seconds() - cpu
    events = sum(len(r.events) for r in results)
    recall = planted_recall(docs, [{e.place for e in r.events} for r in results])
    return Figure("1 process: Pipeline.events_for", len(articles), events, elapsed, 1,
                  note=_cpu_note(len(articles), cpu)), opened, recall


def bench_single_with_store(settings: Settings, articles: list[Article]) -> Figure:
    """The same articles through Pipeline.ingest_articles into a new
    GeoPackage store: geoparsing plus one atomic store write."""
    pipeline = Pipeline(settings)  # a cold lookup cache again, like the run above
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "bench.gpkg")
        cpu = cpu_seconds()
        t = time.perf_counter()
        report = pipeline.ingest_articles(articles, store=store)
        elapsed = time.perf_counter() - t
        cpu = cpu_seconds() - cpu
    return Figure("1 process: + GeoPackage store write", len(articles), report.added, elapsed, 1,
                  note=f"{report.total_in_store:,} events stored, {_cpu_note(len(articles), cpu)}")


def _cpu_note(articles: int, cpu: float) -> str:
    """CPU time beside the wall-clock rate: on a shared machine the two part
    (other processes, a busy VM host), and the CPU rate is what the code costs."""
    return f"CPU {cpu:.1f} s = {articles / cpu:,.0f} articles per CPU-second"


def bench_geotext(docs: list[dict]) -> tuple[Figure, float, float]:
    """geotext (regex over its own city list) on the same texts: places, not
    dated events; a floor for what recognition alone costs."""
    t = time.perf_counter()
    from geotext import GeoText

    GeoText("warm-up in Paris")  # loads its data files
    loaded = time.perf_counter() - t
    t = time.perf_counter()
    found = [GeoText(d["text"]).cities for d in docs]
    elapsed = time.perf_counter() - t
    recall = planted_recall(docs, [set(f) for f in found])
    mentions = sum(len(f) for f in found)
    return Figure("geotext 0.4.0 (places only)", len(docs), mentions, elapsed, 1,
                  note="'events' are city mentions"), loaded, recall


def bench_dask(settings: Settings, articles: list[Article], workers: int) -> tuple[Figure | None, float, list[float], str]:
    """The project's Dask ingest (pipelines.distributed) on a LocalCluster of
    ``workers`` single-threaded workers: figure, start-up seconds, peak RSS
    per worker (MB), and why there is no figure when there is none."""
    try:
        from pipelines import distributed
    except ImportError as exc:
        return None, 0.0, [], f"pipelines.distributed is not available ({exc})"
    return _run_distributed(distributed, settings, articles, workers)


def _run_distributed(distributed, settings: Settings, articles: list[Article],
                     workers: int) -> tuple[Figure, float, list[float], str]:
    from pipelines.sources.ingest import LoadOptions, WorkItem

    items = [WorkItem(f"synthetic {i}", "article", True, article=a) for i, a in enumerate(articles)]
    t = time.perf_counter()
    with distributed.DaskExecutor(settings, LoadOptions(), workers=workers) as executor:
        startup = time.perf_counter() - t  # cluster, workers, one gazetteer open per worker
        worker_cpu = executor.client.run(cpu_seconds)
        main_cpu = cpu_seconds()
        t = time.perf_counter()
        results = list(executor.map_unordered(items))
        elapsed = time.perf_counter() - t
        main_cpu = cpu_seconds() - main_cpu
        worker_cpu = {w: cpu - worker_cpu[w] for w, cpu in executor.client.run(cpu_seconds).items()}
        rss = executor.client.run(peak_rss_mb)
        stats = executor.worker_stats()
    failed = [r.error for r in results if not r.ok]
    events = sum(len(r.events) for r in results)
    tasks = "/".join(str(s["tasks"]) for s in stats.values())
    loads = sum(s["loads"] for s in stats.values())
    busy = "/".join(f"{cpu / elapsed:.0%}" for cpu in worker_cpu.values())
    total_cpu = sum(worker_cpu.values()) + main_cpu
    note = (f"articles per worker {tasks}, gazetteer opened {loads}x, workers busy {busy} of the time, "
            f"worker CPU {sum(worker_cpu.values()):.1f} s + client+scheduler process {main_cpu:.1f} s = "
            f"{len(results) / total_cpu:,.0f} articles per CPU-second" + (f", {len(failed)} FAILED" if failed else ""))
    label = f"Dask, {workers} worker{'s' if workers > 1 else ''} (DaskExecutor)"
    return Figure(label, len(results) - len(failed), events, elapsed, workers, note=note), startup, list(rss.values()), ""


def _targets(fig: Figure) -> str:
    per_core = fig.rate / fig.cores
    verdict = "met" if per_core >= PER_CORE_TARGET else "NOT met"
    return f"{per_core:8,.0f}/core  (target >= {PER_CORE_TARGET:.0f}/core: {verdict})"


def print_figure(fig: Figure, *, with_target: bool = True) -> None:
    target = _targets(fig) if with_target else ""
    note = f"  [{fig.note}]" if fig.note else ""
    print(f"  {fig.what:<40} {fig.rate:9,.0f} articles/s {fig.events_rate:9,.0f} events/s "
          f"{fig.seconds:6.1f} s  {target}{note}")


def median_figure(figures: list[Figure]) -> Figure:
    """The round with the median rate, its note saying the range over the rounds."""
    ranked = sorted(figures, key=lambda f: f.rate)
    mid = ranked[len(ranked) // 2]
    spread = f"median of {len(figures)} rounds, range {ranked[0].rate:,.0f}-{ranked[-1].rate:,.0f} articles/s"
    return replace(mid, note=f"{spread}; {mid.note}" if mid.note else spread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="articles in the synthetic corpus (default 2000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of every measurement, interleaved; the median is reported (default 3: "
                             "one run varies by about 15%% on a 2-core VM)")
    args = parser.parse_args(argv)

    settings = Settings.from_env({k: v for k, v in os.environ.items() if not k.startswith("EVENT_ATLAS_ONLINE")})
    t = time.perf_counter()
    docs = corpus(args.n, seed=args.seed, settings=settings)
    generated = time.perf_counter() - t
    articles = to_articles(docs)
    size = sum(len(d["text"].encode("utf-8")) for d in docs) / len(docs)
    print(f"corpus: {len(docs):,} synthetic articles (bench/generate_corpus.py, seed {args.seed}), "
          f"{size:,.0f} bytes on average, generated in {generated:.1f} s; machine: {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} (figures are only meaningful near 0)")

    rounds: dict[str, list[Figure]] = {}
    speedups: list[float] = []
    worker_rss: dict[int, list[float]] = {}
    recall = 0.0
    for round_no in range(1, max(1, args.repeat) + 1):
        print(f"round {round_no}:")
        single, opened, recall = bench_single(settings, articles, docs)
        print(f"  pipeline start-up (gazetteer index, word lists, actor list): {opened:.2f} s")
        gc.collect()
        with_store = bench_single_with_store(settings, articles)
        this_round = {"single": single, "store": with_store}
        for workers in (1, 2):
            gc.collect()
            fig, startup, rss, why = bench_dask(settings, articles, workers)
            if fig is None:
                print(f"  Dask, {workers} worker{'s' if workers > 1 else ''}: not measured: {why}")
                continue
            this_round[f"dask{workers}"] = fig
            worker_rss[workers] = rss
            print(f"      cluster start-up {startup:.1f} s")
        for key, fig in this_round.items():
            rounds.setdefault(key, []).append(fig)
            print_figure(fig)
        if "dask1" in this_round and "dask2" in this_round:
            speedups.append(this_round["dask2"].rate / this_round["dask1"].rate)
            print(f"  speed-up this round: {speedups[-1]:.2f}x")

    geotext, geotext_load, geotext_recall = bench_geotext(docs)
    print(f"median of {len(rounds['single'])} round(s):")
    for key in ("single", "store", "dask1", "dask2"):
        if key in rounds:
            print_figure(median_figure(rounds[key]))
    for workers, rss in sorted(worker_rss.items()):
        print(f"      peak RSS per worker, {workers} worker{'s' if workers > 1 else ''}: "
              + ", ".join(f"{mb:,.0f} MB" for mb in rss))
    print_figure(geotext, with_target=False)
    print(f"      geotext data load {geotext_load:.2f} s")

    if speedups:
        speedup = statistics.median(speedups)
        verdict = "met" if speedup >= SPEEDUP_TARGET else "NOT met"
        print(f"speed-up, Dask 2 workers vs 1: {speedup:.2f}x, median of {len(speedups)} interleaved rounds "
              f"(range {min(speedups):.2f}-{max(speedups):.2f}x; target >= {SPEEDUP_TARGET}x: {verdict})")
    else:
        print("speed-up, Dask 2 workers vs 1: not measured (no Dask figures)")
    print(f"planted place names found: pipeline {recall:.1%}, geotext {geotext_recall:.1%}")
    print(f"peak RSS, main process (corpus, 1-process runs, geotext): {peak_rss_mb():,.0f} MB; "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
