"""``ingest --workers N`` / ``--scheduler``: Dask gives the same events as one process.

A LocalCluster of 2 worker processes starts in about 1.5 s here, so the real
thing (processes=True) is tested, not a threaded stand-in.
"""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import psutil
import pytest

from conftest import PROJECT_ROOT, run_cli
from geoservers import refused_port
from test_sources import (GRAYVORON_PAGE, HTML, RAID_PAGE, SHEBEKINO_PAGE, PageServer, assert_events, rss,
                          rss_item, serve_news, EXPECTED)

EXAMPLES = PROJECT_ROOT / "geodata" / "examples"


def _events(store) -> dict[str, tuple]:
    frame = gpd.read_file(store, layer="events")
    return {r.event_id: (r.place, r.date, r.date_end, round(r.lat, 6) if r.resolved else None,
                         round(r.lon, 6) if r.resolved else None) for r in frame.itertuples()}


@pytest.fixture()
def server():
    with PageServer() as s:
        serve_news(s)
        s.routes["/feed"] = (200, "application/rss+xml", rss([
            rss_item(s.url("/world/2023/05/23/belgorod-raid"), "Raid", "g-raid"),
            rss_item(s.url("/world/2023/06/02/shebekino"), "Shebekino", "g-shebekino"),
            rss_item(s.url("/world/grayvoron-drones"), "Drones", "g-drones"),
            rss_item(s.url("/files/report.pdf"), "PDF"),
        ]))
        yield s


def test_dask_matches_one_process_and_loads_the_gazetteer_once_per_worker(tmp_path, settings, server):
    from pipelines.distributed import DaskExecutor
    from pipelines.pipeline import Pipeline
    from pipelines.sources.fetch import Fetcher
    from pipelines.sources.ingest import LoadOptions, LocalExecutor, SourceIngest, plan_inputs

    page = tmp_path / "shebekino.html"
    page.write_text(SHEBEKINO_PAGE, encoding="utf-8")
    options = LoadOptions()
    fetcher = Fetcher.from_settings(settings)
    plan = plan_inputs([str(EXAMPLES), str(page), server.url("/feed")], fetcher=fetcher, options=options,
                       max_bytes=settings.max_article_bytes, registry=None)
    assert len(plan.items) == 9  # 4 examples, 1 page, 4 feed items

    single_store, dask_store = str(tmp_path / "single.gpkg"), str(tmp_path / "dask.gpkg")
    started = time.perf_counter()
    single = SourceIngest(single_store, batch_size=3).run(plan, LocalExecutor(Pipeline(settings), fetcher, options))
    print(f"one process: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    children_before = {p.pid for p in psutil.Process().children(recursive=True)}
    with DaskExecutor(settings, options, workers=2) as executor:
        workers = {p.pid for p in psutil.Process().children(recursive=True)} - children_before
        assert workers, "LocalCluster should run worker processes"
        report = SourceIngest(dask_store, batch_size=3).run(plan, executor)
        stats = executor.worker_stats()
    print(f"dask, 2 workers (start, run, stop): {time.perf_counter() - started:.2f} s")
    assert len(stats) == 2
    assert [s["loads"] for s in stats.values()] == [1, 1]  # once per worker, not per article
    assert sum(s["tasks"] for s in stats.values()) == len(plan.items)
    assert all(s["pid"] in workers for s in stats.values())

    assert (report.articles, report.added, len(report.failed)) == (single.articles, single.added, len(single.failed))
    assert report.articles == 8 and len(report.failed) == 1 and "report.pdf" in report.failed[0]
    assert report.writes >= 2  # batches of 3, written by the client once the direct inputs are all done
    assert _events(dask_store) == _events(single_store)
    assert_events(gpd.read_file(dask_store, layer="events"),
                  EXPECTED["raid"] + EXPECTED["shebekino"] + EXPECTED["grayvoron"])

    # nothing left behind: the worker processes are gone (multiprocessing's resource
    # tracker, shared by the whole test process, ends with it)
    def alive(pid: int) -> bool:
        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE

    dask_pids = {s["pid"] for s in stats.values()}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in dask_pids):
        time.sleep(0.1)
    assert not [pid for pid in dask_pids if alive(pid)]
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in children_before and alive(p.pid)]
    assert all("resource_tracker" in " ".join(p.cmdline()) for p in left), [p.cmdline() for p in left]


def test_cli_workers_2_stores_the_same_events_as_one_process(tmp_path, server):
    page = tmp_path / "grayvoron.html"
    page.write_text(GRAYVORON_PAGE, encoding="utf-8")
    inputs = [str(EXAMPLES), str(page), server.url("/world/2023/05/23/belgorod-raid")]
    single, dask = tmp_path / "single.gpkg", tmp_path / "dask.gpkg"
    one = run_cli("ingest", *inputs, "--store", str(single))
    assert one.returncode == 0, one.stderr
    two = run_cli("ingest", *inputs, "--store", str(dask), "--workers", "2")
    assert two.returncode == 0, two.stderr
    assert "Dask, 2 workers" in two.stdout and "Traceback" not in two.stderr
    assert _events(dask) == _events(single)
    assert len(_events(dask)) > 20


def test_cli_on_an_existing_scheduler(tmp_path, server):
    from distributed import LocalCluster

    from pipelines.distributed import PLUGIN_NAME

    store = tmp_path / "events.gpkg"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                      silence_logs=logging.ERROR) as cluster:
        result = run_cli("ingest", server.url("/feed"), "--store", str(store), "--scheduler", cluster.scheduler_address,
                         env={"EVENT_ATLAS_CACHE_DIR": str(_private_cache(tmp_path))})
        assert result.returncode == 1, result.stderr  # the PDF item failed, the three pages are stored
        assert f"Dask at {cluster.scheduler_address}" in result.stdout
        plugins = [w.plugins[PLUGIN_NAME] for w in cluster.workers.values()]
        assert [(p.loads, p.tasks) for p in plugins] == [(1, 4)]
    assert_events(gpd.read_file(store, layer="events"),
                  EXPECTED["raid"] + EXPECTED["shebekino"] + EXPECTED["grayvoron"])


def _private_cache(tmp_path):
    from pipelines.config import Settings

    shared = Settings.from_env().cache_dir
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in ("gazetteer.sqlite", "user-places.sqlite"):
        if (shared / name).exists():
            (cache / name).symlink_to(shared / name)
    return cache


def test_unreachable_scheduler_is_a_one_line_error(tmp_path):
    store = tmp_path / "events.gpkg"
    with refused_port() as where:
        started = time.monotonic()
        result = run_cli("ingest", str(EXAMPLES), "--store", str(store), "--scheduler", f"tcp://{where}",
                         env={"EVENT_ATLAS_DASK_CONNECT_TIMEOUT": "2"})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the Dask scheduler at tcp://"), result.stderr
    assert time.monotonic() - started < 30
    assert not store.exists()
