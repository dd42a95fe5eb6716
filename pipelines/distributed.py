"""Run the ingest on Dask (``dask.distributed``): ``ingest … --workers N``.

Why a worker plugin: the gazetteer index is opened once per worker, when the
worker joins, and every task on that worker reuses it, instead of paying the
load per article. The plugin object lives on the worker (``worker.plugins``),
so this is per-worker state owned by Dask, not a module global.

Only fetching, extraction and geoparsing run on the workers. Results come
back to the client, which writes them through :func:`pipelines.store.ingest_events`
in batches, so the store's locking and atomicity hold whatever the cluster.
"""

from __future__ import annotations

import logging
import os
from typing import Iterator

import dask
from distributed import WorkerPlugin

from .config import Settings
from .errors import InputError
from .schema import Event, event_values
from .sources.fetch import Fetcher
from .sources.ingest import ItemResult, LoadOptions, WorkItem, process_item

PLUGIN_NAME = "event-atlas-pipeline"
#: Dask settings for the workers of a LocalCluster we start. Each worker samples
#: its task thread's stack every 10 ms for the dashboard's profile page; there
#: is no dashboard, and the sampling takes the GIL from the geoparser 100 times
#: a second (1-2% of a worker's CPU here).
LOCAL_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


class PipelinePlugin(WorkerPlugin):
    """Holds one :class:`~pipelines.pipeline.Pipeline` and one fetcher per worker.

    Sent to each worker pickled with its settings; ``loads`` and ``tasks`` count
    what happened on that worker, so tests (and curious users) can check the
    gazetteer was loaded once for many articles."""

    name = PLUGIN_NAME

    def __init__(self, settings: Settings, options: LoadOptions):
        self.settings = settings
        self.options = options
        self.pipeline = None
        self.fetcher: Fetcher | None = None
        self.loads = 0
        self.tasks = 0
        self.pid = 0

    def setup(self, worker=None) -> None:
        from .pipeline import Pipeline

        self.pipeline = Pipeline(self.settings)  # opens the gazetteer index: once per worker
        self.fetcher = Fetcher.from_settings(self.settings)
        self.loads += 1
        self.pid = os.getpid()

    def teardown(self, worker=None) -> None:
        if self.fetcher is not None:
            self.fetcher.close()

    def process(self, index: int, item: WorkItem) -> ItemResult:
        self.tasks += 1
        return process_item(index, item, self.pipeline, self.fetcher, self.options)


#: One result as it travels back: ``ItemResult``'s fields with each event as a
#: tuple of its field values (see :func:`pack_results`).
PackedResult = tuple[int, list[tuple], int, str, str, str]


def run_on_worker(indices: list[int], items: list[WorkItem]) -> list[PackedResult]:
    """The task: a chunk of items on whatever worker Dask chose.

    Chunks, not single articles: a 2 kB article takes ~4 ms to geoparse,
    less than Dask's per-task cost (scheduling, pickling, a round trip)."""
    from distributed import get_worker

    plugin = get_worker().plugins[PLUGIN_NAME]
    return pack_results([plugin.process(index, item) for index, item in zip(indices, items)])


def pack_results(results: list[ItemResult]) -> list[PackedResult]:
    """Results in a compact form for the trip to the client: an event as a tuple
    of its field values, not a pickled object with a 36-key ``__dict__``, halves
    the pickling on the worker and the unpickling on the client, which shares
    the machine with the workers (and is the one process that cannot scale)."""
    return [(r.index, [event_values(e) for e in r.events], r.unresolved, r.article_id, r.error, r.note)
            for r in results]


def unpack_results(packed: list[PackedResult]) -> list[ItemResult]:
    """The client's side of :func:`pack_results`: equal ``ItemResult`` and ``Event`` objects."""
    return [ItemResult(index, [Event(*values) for values in events], unresolved, article_id, error, note)
            for index, events, unresolved, article_id, error, note in packed]


def chunk_size(items: int, workers: int, *, most: int = 50) -> int:
    """About four chunks per worker (so a slow chunk does not leave the other
    workers idle at the end), at most ``most`` items each."""
    return max(1, min(most, -(-items // max(1, workers * 4))))


class DaskExecutor:
    """A ``LocalCluster`` of ``workers`` processes (1 thread each), or the
    cluster at ``scheduler``; used as a context manager that always shuts down
    what it started."""

    def __init__(self, settings: Settings, options: LoadOptions, *, workers: int | None = None,
                 scheduler: str | None = None):
        if (workers is None) == (scheduler is None):
            raise InputError("give either --workers N or --scheduler tcp://HOST:PORT")
        if workers is not None and workers < 1:
            raise InputError(f"--workers {workers}: give at least 1 worker")
        self.settings, self.options = settings, options
        self.workers, self.scheduler = workers, scheduler
        self.cluster = None
        self.client = None

    def __enter__(self) -> "DaskExecutor":
        from distributed import Client, LocalCluster

        try:
            if self.scheduler:
                self.client = Client(self.scheduler, timeout=self.settings.dask_connect_timeout,
                                     set_as_default=False)
            else:
                # on 127.0.0.1 only, no dashboard, and the scheduler's HTTP endpoint on a free
                # port (its default, 8787, would collide between two runs)
                with dask.config.set(LOCAL_WORKER_CONFIG):  # the nannies hand it to their workers
                    self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                                host="127.0.0.1", dashboard_address=None,
                                                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                                silence_logs=logging.ERROR)
                self.client = Client(self.cluster, set_as_default=False)
            self.client.register_plugin(PipelinePlugin(self.settings, self.options), name=PLUGIN_NAME)
        except (OSError, TimeoutError) as exc:
            self.close()
            where = self.scheduler or "a local cluster"
            raise InputError(f"cannot reach the Dask scheduler at {where} ({_first_line(exc)})") from None
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def map_unordered(self, items: list[WorkItem]) -> Iterator[ItemResult]:
        """Results as they finish; a worker that died on an item fails that item only."""
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        workers = self.workers or max(1, len(self.client.scheduler_info().get("workers", {})))
        size = chunk_size(len(items), workers)
        chunks = [list(range(start, min(start + size, len(items)))) for start in range(0, len(items), size)]
        futures = self.client.map(run_on_worker, chunks, [[items[i] for i in chunk] for chunk in chunks], pure=False)
        chunk_of = {future.key: chunk for chunk, future in zip(chunks, futures)}
        for future in as_completed(futures, loop=self.client.loop):
            try:
                results = unpack_results(future.result())
            except KilledWorker:
                results = [ItemResult(index, error=f"{items[index].label}: a Dask worker died while processing it")
                           for index in chunk_of[future.key]]
            future.release()
            yield from results

    def worker_stats(self) -> dict[str, dict[str, int]]:
        """Per worker: gazetteer loads, tasks run, process id."""
        def stats(dask_worker) -> dict[str, int]:
            plugin = dask_worker.plugins[PLUGIN_NAME]
            return {"loads": plugin.loads, "tasks": plugin.tasks, "pid": plugin.pid}

        return self.client.run(stats)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:200]
