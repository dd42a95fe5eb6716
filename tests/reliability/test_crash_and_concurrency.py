"""SIGKILL in the middle of ingests, concurrent writers and readers.

The writers are real processes: forked from the test process (so a kill
cycle costs milliseconds, not an interpreter start-up) and, for the
concurrency test, also the real CLI. Each forked writer builds its own
Pipeline, so no SQLite connection crosses the fork.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, run_cli
from pipelines.articles import parse_article
from pipelines.config import Settings
from pipelines.schema import article_id_for
from pipelines.store import read_events

EXAMPLES = sorted((PROJECT_ROOT / "geodata" / "examples").glob("*.md"))
KILLS = int(os.environ.get("EVENT_ATLAS_TEST_KILLS", "40"))
FORK = multiprocessing.get_context("fork")


def _articles(n: int) -> list[tuple[str, str]]:
    """n distinct articles: the examples, each with its own closing line."""
    out = []
    for i in range(n):
        base = EXAMPLES[i % len(EXAMPLES)]
        text = base.read_text(encoding="utf-8").rstrip() + f"\n\nEditor's reference number {i}.\n"
        out.append((f"{base.stem}-{i}.md", text))
    return out


@pytest.fixture(scope="module")
def corpus(pipeline) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    """The articles and, per article_id, the event ids an uninterrupted ingest stores."""
    articles = _articles(90)
    expected = {}
    for name, text in articles:
        article = parse_article(text, name=name)
        expected[article_id_for(article.text)] = {e.event_id for e in pipeline.events_for(article).events}
    assert all(expected.values()) and len(expected) == len(articles)
    return articles, expected


def _ingest_one_by_one(store: str, articles: list[tuple[str, str]], ready: "multiprocessing.Event",
                       resume: bool = False) -> None:
    """Child process: one transaction per article, as an ingest of many files would do."""
    from pipelines.pipeline import Pipeline

    pipeline = Pipeline(Settings.from_env({k: v for k, v in os.environ.items()
                                           if not k.startswith("EVENT_ATLAS_ONLINE")}))
    pipeline.events_for(parse_article(articles[0][1], name=articles[0][0]))  # warm up
    if resume:  # like re-running a long batch: what is stored goes last
        stored = set(read_events(store)["article_id"])
        articles = sorted(articles, key=lambda a: article_id_for(parse_article(a[1], name=a[0]).text) in stored)
    ready.set()
    for name, text in articles:
        pipeline.ingest_articles([parse_article(text, name=name)], store=store)
    os._exit(0)


def _check_consistent(store: str, expected: dict[str, set[str]]) -> int:
    """The store opens, passes SQLite's integrity check, and holds each
    article's events all or none. Returns the number of articles stored."""
    if Path(store).exists():
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    events = read_events(store)
    assert not events["event_id"].duplicated().any()
    stored = 0
    for article_id, group in events.groupby("article_id"):
        assert set(group["event_id"]) == expected[article_id], f"article {article_id} is partly stored"
        stored += 1
    return stored


def test_sigkill_at_random_points_leaves_every_article_all_or_nothing(corpus, store, figures):
    articles, expected = corpus
    rng = random.Random(20230522)
    mid_write = 0
    temporaries = f".{Path(store).name}.*.tmp.gpkg*"
    for kill in range(KILLS):
        ready = FORK.Event()
        child = FORK.Process(target=_ingest_one_by_one, args=(store, articles, ready, True))
        child.start()
        assert ready.wait(30), "writer did not start"
        if kill % 2:  # at a random moment of the next write (the riskiest place)
            deadline = time.monotonic() + 3
            while not any(Path(store).parent.glob(temporaries)) and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(rng.uniform(0.0, 0.01))
        else:  # at a random moment
            time.sleep(rng.uniform(0.0, 0.4))
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        figures.add("ingests killed (SIGKILL)")
        mid_write += any(Path(store).parent.glob(temporaries))
        _check_consistent(store, expected)
        figures.add("kills with the store consistent")

    # A run that is not interrupted completes the store: nothing was lost.
    ready = FORK.Event()
    child = FORK.Process(target=_ingest_one_by_one, args=(store, articles, ready))
    child.start()
    child.join(120)
    assert child.exitcode == 0
    assert _check_consistent(store, expected) == len(articles)
    events = read_events(store)
    lost = sum(len(expected[article_id_for(parse_article(t, name=n).text)]) for n, t in articles) - len(events)
    figures.add("events lost", lost)
    assert lost == 0
    assert not list(Path(store).parent.glob(temporaries)), "stale temporary left"
    figures.add("kills inside a store write", mid_write)
    assert mid_write >= 1, "no kill landed inside a write: the test proves nothing"
    print(f"{KILLS} kills, {mid_write} left a half-written temporary (mid-write), store consistent after each")


def test_two_writers_and_a_reader_at_once_lose_nothing(corpus, tmp_path, figures):
    articles, expected = corpus
    store = str(tmp_path / "events.gpkg")
    # Overlapping: articles 8..15 are ingested by both forked writers;
    # the last four by the real CLI at the same time.
    articles = articles[:24]
    first, second, cli_articles = articles[:16], articles[8:20], articles[20:]
    folder = tmp_path / "cli-articles"
    folder.mkdir()
    for name, text in cli_articles:
        (folder / name).write_text(text, encoding="utf-8")

    errors: list[BaseException] = []
    reads = 0
    stop = threading.Event()

    def reader() -> None:
        nonlocal reads
        from dashboard.data import load_events

        while not stop.is_set():
            try:
                events = load_events(store)
                for article_id, group in events.groupby("article_id"):
                    assert set(group["event_id"]) == expected[article_id]
                reads += 1
            except BaseException as error:  # noqa: BLE001 - collected and re-raised in the test
                errors.append(error)
                return

    children = []
    for part in (first, second):
        ready = FORK.Event()
        child = FORK.Process(target=_ingest_one_by_one, args=(store, part, ready))
        child.start()
        children.append(child)
    # The reader thread starts after the forks: a thread inside SQLite at the
    # moment of a fork leaves SQLite's mutex held in the child, whose first
    # sqlite3.connect then waits forever (seen once: a writer hung opening the
    # gazetteer index). The writers spend their first second building a
    # Pipeline, so the reader still runs beside every write.
    watcher = threading.Thread(target=reader)
    watcher.start()
    cli = run_cli("ingest", str(folder), "--store", store)
    for child in children:
        child.join(120)
    stop.set()
    watcher.join(30)

    assert cli.returncode == 0, cli.stderr
    assert [c.exitcode for c in children] == [0, 0]
    assert not errors, errors[0]
    assert reads > 0
    figures.add("concurrent ingests", 3)
    assert _check_consistent(store, expected) == len(articles)
    events = read_events(store)
    lost = sum(len(expected[article_id_for(parse_article(t, name=n).text)]) for n, t in articles) - len(events)
    figures.add("events lost", lost)
    assert lost == 0
