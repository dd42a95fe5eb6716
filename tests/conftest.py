"""Shared fixtures: one gazetteer per test session, stores in tmp folders."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pipelines.config import PROJECT_ROOT, Settings

#: The shared corpus beside the checkout; EVENT_ATLAS_SHARED points elsewhere
#: (e.g. for a clone in a temporary folder).
SHARED = Path(os.environ.get("EVENT_ATLAS_SHARED") or PROJECT_ROOT.parent / "shared")
SEED_DIR = SHARED / "corpus" / "seed"
SEED_TEXT = SEED_DIR / "belgorod-incursion-2023-05.txt"
SEED_GOLD = SEED_DIR / "belgorod-incursion-2023-05.gold.json"


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Real settings (the shared gazetteer cache) with online geocoding off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENT_ATLAS_ONLINE")}
    return Settings.from_env(env)


@pytest.fixture(scope="session")
def geocoder(settings):
    from pipelines.gazetteer import open_gazetteer

    return open_gazetteer(settings)


@pytest.fixture(scope="session")
def geoparser(geocoder):
    from pipelines.geoparse import Geoparser

    return Geoparser(geocoder)


@pytest.fixture(scope="session")
def pipeline(settings, geocoder):
    from pipelines.pipeline import Pipeline

    return Pipeline(settings, geocoder=geocoder)


@pytest.fixture()
def store(tmp_path) -> str:
    return str(tmp_path / "events.gpkg")


@pytest.fixture(scope="session")
def postgis_url():
    """A PostGIS database URL: $EVENT_ATLAS_TEST_POSTGIS, or a private server
    started for this session. Skipped when the machine has no PostgreSQL with
    PostGIS, except in CI (CI=true), where that is a failure."""
    from pgcluster import TemporaryPostgres, postgis_available, postgres_bindir

    if os.environ.get("EVENT_ATLAS_TEST_POSTGIS"):
        yield os.environ["EVENT_ATLAS_TEST_POSTGIS"]
        return
    bindir = postgres_bindir()
    if bindir is None or not postgis_available(bindir):
        message = "PostgreSQL with PostGIS is not installed (apt-get install postgresql postgresql-15-postgis-3)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + "; CI must run the PostGIS store tests")
        pytest.skip(message)
    server = TemporaryPostgres(bindir)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(params=["geopackage", "postgis"])
def any_store(request, tmp_path) -> str:
    """The same store tests against both backends: a fresh, empty store."""
    if request.param == "geopackage":
        return str(tmp_path / "events.gpkg")
    url = request.getfixturevalue("postgis_url")
    schema = "t_" + uuid.uuid4().hex[:16]
    return f"{url}?schema={schema}"


@pytest.fixture(scope="session")
def seed_gold() -> dict:
    if not SEED_GOLD.exists():
        pytest.skip("../shared/corpus/seed is not present")
    return json.loads(SEED_GOLD.read_text(encoding="utf-8"))


def run_app(monkeypatch, store: str, query: dict | None = None):
    """The dashboard run headless (Streamlit's AppTest) on ``store`` with the
    link's ``query``; fails on any exception the page shows."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("EVENT_ATLAS_STORE", str(store))
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard" / "app.py"), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def count_line(at) -> str:
    """The page's one "N events shown of M" line."""
    (line,) = [m.value for m in at.markdown if "shown of" in m.value]
    return line


def run_cli(*args: str, env: dict | None = None, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    """Run ``python -m pipelines`` as a user would."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("EVENT_ATLAS_ONLINE_GEOCODER", None)
    return subprocess.run(
        [sys.executable, "-m", "pipelines", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300,
    )


# -- reliability figures -----------------------------------------------------
# Tests that inject faults, kill processes, run hypothesis examples or try
# hostile strings count them here; the totals are printed at the end of the
# run and written to artifacts/reliability-figures.json (bench/bench_reliability.py
# prints them too). "events lost" must stay 0.
RELIABILITY_FIGURES = (
    "geocoder faults injected",
    "geocoder faults survived",
    "ingests killed (SIGKILL)",
    "kills with the store consistent",
    "kills inside a store write",
    "concurrent ingests",
    "hypothesis examples run",
    "hostile strings tried",
    "malformed imports refused",
    "events lost",
)


class ReliabilityFigures:
    """A per-session tally: ``figures.add("events lost", 0)``."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, name: str, n: int = 1) -> None:
        if name not in RELIABILITY_FIGURES:
            raise KeyError(f"unknown reliability figure {name!r}; add it to RELIABILITY_FIGURES")
        self.counts[name] = self.counts.get(name, 0) + int(n)


_FIGURES_KEY = pytest.StashKey[ReliabilityFigures]()


@pytest.fixture(scope="session")
def figures(pytestconfig) -> ReliabilityFigures:
    return pytestconfig.stash.setdefault(_FIGURES_KEY, ReliabilityFigures())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tally = config.stash.get(_FIGURES_KEY, None)
    if tally is None or not tally.counts:
        return
    terminalreporter.section("reliability figures")
    for name in RELIABILITY_FIGURES:
        if name in tally.counts:
            terminalreporter.write_line(f"{name:>34}: {tally.counts[name]:,}")
    out = PROJECT_ROOT / "artifacts" / "reliability-figures.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(tally.counts, indent=2, sort_keys=True) + "\n", encoding="utf-8")
