"""The dashboard at 1,000, 10,000 and 100,000 events, measured in a real browser.

For each size: a synthetic GeoPackage store (bench/synthetic_events.py, cached
in the bench folder below), a real ``streamlit run dashboard/app.py`` on a free
loopback port, and Debian's chromium driven by Playwright (offline: every
non-loopback request is refused). It prints:

- first render: from ``page.goto`` (warm server, fresh browser context) to
  the map frame saying its events are drawn (``data-ea-ready`` on its body,
  stamped with the page's clock: folium's markers added, the clusters'
  supercluster index built and the view's clusters drawn, or the heat layer's
  first frame), and to the whole page done (Streamlit's script run finished);
  "cold" is the first load of a new server (imports, store read); a breakdown
  line says when the map frame was created, its scripts loaded, the layer's
  script started and the layer was drawn (the frame's performance timeline);
- returning visitor: the same browser context opens the page again after
  the filter change (its HTTP cache holds Streamlit's code chunks, which
  Streamlit serves as immutable): from ``page.goto`` to the map drawn;
- filter change: from moving the timeline's start to its last day (the End
  key on the slider's first thumb) to the map drawn again with the new count,
  and to the page done;
- payload: the map's own arguments to streamlit-folium (script, header, html;
  built in this process with the same code, with the server time it takes),
  and everything the browser received for the first render: websocket bytes
  (the page's elements, the map among them) and HTTP bodies (Streamlit's own
  JS bundle, Leaflet and plugins; cached by a browser after the first visit);
- Python peak memory: the Streamlit server's peak RSS (VmHWM) after both.

The map mode is the default (``auto``: markers up to 1,000 events, clusters
above); ``--heat`` adds a row per size for the heat map. Targets at 100,000
events: first render < 4 s, filter change < 1.5 s, payload < 15 MB. Timings are
the median of ``--repeat`` page loads (default 3), with their range. It asserts
nothing.

    python bench/bench_dashboard.py [--sizes 1000,10000,100000] [--heat] [--out DIR] [--app SCRIPT]

``--app`` runs another Streamlit script (a copy of app.py without some panels, to see
what each costs).
"""

from __future__ import annotations

import argparse
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from synthetic_events import write_store  # noqa: E402

TARGETS = {"first": 4.0, "filter": 1.5, "payload_mb": 15.0}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
MAP_FRAME_URL = "streamlit_folium"
MODE_PREFIX = {"Heat map": "heat:", "Clusters": "clusters:", "Markers": "markers:"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store: Path, log: Path, app: str = "dashboard/app.py") -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "EVENT_ATLAS_STORE": str(store),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("EVENT_ATLAS_ONLINE_GEOCODER", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", app, "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("streamlit not healthy after 90 s")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def map_frame_state(page) -> tuple[str, float] | None:
    """The map frame's ``data-ea-ready`` value and the time (epoch s) the page
    set it, if any; the time is taken in the page, so polling adds no delay."""
    for frame in reversed(page.frames):
        if "streamlit_folium" not in frame.url:
            continue
        try:
            found = frame.evaluate("() => document.body && [document.body.getAttribute('data-ea-ready'),"
                                   " document.body.getAttribute('data-ea-ready-at')]")
        except Exception:  # noqa: BLE001 - a frame being replaced
            continue
        if found and found[0]:
            return found[0], int(found[1]) / 1000
    return None


def frame_timing(page, t0: float) -> dict | None:
    """Where the first render's time went, from the map frame's own clock
    (seconds after ``t0``, the epoch time of ``page.goto``): the frame created,
    its scripts (Leaflet and plugins) loaded, the layer's script started (after
    Streamlit sent the map and the frame parsed its data) and the layer drawn."""
    for frame in reversed(page.frames):
        if MAP_FRAME_URL not in frame.url:
            continue
        try:
            found = frame.evaluate("""() => {
                const mark = name => { const e = performance.getEntriesByName(name); return e.length ? e[e.length - 1].startTime : null; };
                const scripts = performance.getEntriesByType('resource').filter(r => r.initiatorType === 'script');
                return {origin: performance.timeOrigin, scripts: Math.max(0, ...scripts.map(r => r.responseEnd)),
                        start: mark('ea-layer-start'), drawn: mark('ea-layer-drawn')};
            }""")
        except Exception:  # noqa: BLE001 - a frame being replaced
            continue
        origin = found["origin"] / 1000 - t0
        at = {k: (None if found[k] is None else origin + found[k] / 1000) for k in ("scripts", "start", "drawn")}
        return {"frame": origin, **at}
    return None


def wait_ready(page, previous: str | None, timeout: float = 180.0, prefix: str = "") -> tuple[str, float]:
    """The map's new ``data-ea-ready`` value (starting with ``prefix``) and
    when it was set (epoch s)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = map_frame_state(page)
        if found and found[0] != previous and found[0].startswith(prefix):
            return found
        page.wait_for_timeout(20)
    raise TimeoutError(f"map not drawn (last: {previous})")


def idle(page, timeout: float = 300_000) -> None:
    """Wait until Streamlit has finished the script run (the whole page sent)."""
    page.wait_for_timeout(300)
    page.locator('[data-test-script-state="notRunning"]').wait_for(state="attached", timeout=timeout)


def map_payload(store: Path, mode: str) -> tuple[int, float]:
    """Bytes of the map's arguments to streamlit-folium (script, header, html)
    for all the store's events, and the seconds the server spends building
    them (mapview.build_map + st_folium), measured in this process."""
    import streamlit_folium

    from dashboard import mapview
    from pipelines.store import read_events

    events = read_events(str(store))
    calls = []
    original = streamlit_folium._component_func
    streamlit_folium._component_func = lambda **kw: calls.append(kw) or {}
    try:
        with tempfile.TemporaryDirectory() as static:
            mapview.build_map(events, "/app/static", mode=mode, static_dir=Path(static), version=1)  # popups
            t = time.time()
            m = mapview.build_map(events, "/app/static", mode=mode, static_dir=Path(static), version=1)
            streamlit_folium.st_folium(m, returned_objects=[])
            seconds = time.time() - t
    finally:
        streamlit_folium._component_func = original
    kw = calls[-1]
    return sum(len(str(kw[k]).encode("utf-8")) for k in ("script", "header", "html")), seconds


class Traffic:
    """Bytes the page received: websocket frames and HTTP response bodies."""

    def __init__(self, page):
        self.ws = 0
        self.http = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        page.on("requestfinished", self._request)

    def _frame(self, payload) -> None:
        self.ws += len(payload.encode("utf-8") if isinstance(payload, str) else payload)

    def _request(self, request) -> None:
        try:
            sizes = request.sizes()
            self.http += sizes.get("responseBodySize", 0)
        except Exception:  # noqa: BLE001
            pass


def offline_context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    local = ("http://127.0.0.1", "data:", "blob:", "about:")
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(local) else r.abort())
    return context


def cold_load(browser, url: str) -> float:
    """The first page load of a fresh server (imports, store read, caches):
    seconds to the map drawn."""
    context = offline_context(browser)
    try:
        page = context.new_page()
        t0 = time.time()
        page.goto(url + "/")
        return wait_ready(page, None)[1] - t0
    finally:
        context.close()


def measure(browser, url: str, mode: str | None, shots: Path | None, n: int) -> dict:
    """A warm server, a new browser context (nothing cached): first render,
    then a filter change."""
    context = offline_context(browser)
    page = context.new_page()
    traffic = Traffic(page)
    try:
        t0 = time.time()
        page.goto(url + "/")
        value, t1 = wait_ready(page, None)
        if mode is not None:  # then switch the map mode: "first render" is the switch
            page.wait_for_timeout(500)
            traffic.ws = traffic.http = 0
            t0 = time.time()
            page.get_by_text(mode, exact=True).click()
            value, t1 = wait_ready(page, value, prefix=MODE_PREFIX[mode])
        first = {"ready": value, "seconds": t1 - t0, "ws": traffic.ws, "http": traffic.http,
                 "timing": frame_timing(page, t0)}
        idle(page)
        first["page_ws"], first["page_s"] = traffic.ws, time.time() - t0
        if shots:
            page.screenshot(path=str(shots / f"bench-{n}-{(mode or 'auto').replace(' ', '-').lower()}.png"))
        traffic.ws = traffic.http = 0
        start = page.get_by_role("slider", name=re.compile("Timeline")).first
        start.focus()
        t2 = time.time()
        page.keyboard.press("End")  # the range's start to its last day: that day's events
        value2, t3 = wait_ready(page, value)
        second = {"ready": value2, "seconds": t3 - t2, "ws": traffic.ws}
        idle(page)
        second["page_ws"], second["page_s"] = traffic.ws, time.time() - t2
        # A returning visitor: the same browser (its HTTP cache holds Streamlit's
        # code chunks, served as immutable) opens the page again.
        traffic.ws = traffic.http = 0
        t4 = time.time()
        page.goto(url + "/")
        value3, t5 = wait_ready(page, None)
        revisit = {"ready": value3, "seconds": t5 - t4, "http": traffic.http}
        idle(page)
        return {"first": first, "filter": second, "revisit": revisit}
    finally:
        context.close()


def median_run(runs: list[dict]) -> dict:
    """One run's figures with the four timings replaced by their medians over
    ``runs`` (one page load on a 2-core machine varies by ±0.4 s), and the
    range of each in ``spread``."""
    import statistics

    result = {"first": dict(runs[0]["first"]), "filter": dict(runs[0]["filter"]),
              "revisit": dict(runs[0]["revisit"]), "spread": {}}
    for part, key in (("first", "seconds"), ("first", "page_s"), ("filter", "seconds"), ("filter", "page_s"),
                      ("revisit", "seconds")):
        values = [r[part][key] for r in runs]
        result[part][key] = statistics.median(values)
        result["spread"][f"{part}.{key}"] = (min(values), max(values))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--heat", action="store_true", help="also measure the heat map")
    parser.add_argument("--repeat", type=int, default=3,
                        help="page loads per size (each in a new browser context); the median is reported")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "event-atlas-bench")
    parser.add_argument("--app", default="dashboard/app.py", help="the Streamlit script (for attribution runs)")
    parser.add_argument("--screenshots", type=Path, default=ROOT / "artifacts" / "screenshots")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        print("error: Debian's chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    args.screenshots.mkdir(parents=True, exist_ok=True)
    rows = []
    print("load average at start: %.1f %.1f %.1f" % os.getloadavg(), f"({os.cpu_count()} CPUs)", flush=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for n in [int(s) for s in args.sizes.split(",")]:
            store = args.out / f"events-{n}.gpkg"
            if not store.exists():
                t = time.time()
                write_store(store, n)
                print(f"wrote {store} ({n:,} events) in {time.time() - t:.1f} s", flush=True)
            for mode in [None] + (["Heat map"] if args.heat else []):
                proc, url = start_server(store, args.out / f"streamlit-{n}.log", args.app)
                try:
                    cold = cold_load(browser, url)
                    runs = [measure(browser, url, mode, args.screenshots, n) for _ in range(args.repeat)]
                    result = median_run(runs)
                    result["cold"] = cold
                    result["peak_mb"] = peak_rss_mb(proc.pid)
                finally:
                    stop_server(proc)
                result["n"], result["mode"] = n, mode or "auto"
                result["map_bytes"], result["map_build_s"] = map_payload(
                    store, {"Heat map": "heat"}.get(mode, "auto"))
                rows.append(result)
                f, c = result["first"], result["filter"]
                print(f"{n:>7,} {result['mode']:<8} cold {cold:5.2f} s | map drawn {f['seconds']:5.2f} s "
                      f"({f['ready']}), page done {f['page_s']:5.2f} s | filter: map {c['seconds']:5.2f} s "
                      f"({c['ready']}), page {c['page_s']:5.2f} s | map payload {result['map_bytes'] / 1e6:5.2f} MB "
                      f"(built in {result['map_build_s']:.2f} s), page ws {f['page_ws'] / 1e6:6.2f} MB, "
                      f"http {f['http'] / 1e6:5.2f} MB, filter ws {c['page_ws'] / 1e6:5.2f} MB | "
                      f"peak RSS {result['peak_mb']:6.0f} MB", flush=True)
                lo, hi = result["spread"]["first.seconds"]
                flo, fhi = result["spread"]["filter.seconds"]
                rlo, rhi = result["spread"]["revisit.seconds"]
                print(f"        median of {args.repeat} page loads; map drawn {lo:.2f}–{hi:.2f} s, "
                      f"filter→map {flo:.2f}–{fhi:.2f} s; returning visitor (browser cache warm): map drawn "
                      f"{result['revisit']['seconds']:.2f} s ({rlo:.2f}–{rhi:.2f} s, http "
                      f"{result['revisit']['http'] / 1e6:.2f} MB)", flush=True)
                timing = f["timing"]
                if timing:
                    print("        first render breakdown (s after goto): " + ", ".join(
                        f"{name} {timing[key]:.2f}" for key, name in (
                            ("frame", "map frame created"), ("scripts", "its scripts loaded"),
                            ("start", "layer script started"), ("drawn", "layer drawn"))
                        if timing[key] is not None), flush=True)
        browser.close()

    print("load average at end: %.1f %.1f %.1f" % os.getloadavg())
    print("\n(for a mode other than auto, 'map drawn' is the switch from auto to that mode)")
    print("events   mode      map drawn  page done  filter→map  filter→page  revisit  map payload  page ws+http  "
          "Python peak")
    for r in rows:
        f, c = r["first"], r["filter"]
        print(f"{r['n']:>7,}  {r['mode']:<8} {f['seconds']:>7.2f} s {f['page_s']:>8.2f} s {c['seconds']:>9.2f} s "
              f"{c['page_s']:>10.2f} s {r['revisit']['seconds']:>6.2f} s"
              f" {r['map_bytes'] / 1e6:>9.2f} MB {(f['page_ws'] + f['http']) / 1e6:>10.2f} MB "
              f"{r['peak_mb']:>8.0f} MB")
    big = [r for r in rows if r["n"] == 100_000 and r["mode"] == "auto"]
    if big:
        r = big[0]
        print(f"\ntargets at 100,000 events: first render {r['first']['seconds']:.2f} s on a first visit, "
              f"{r['revisit']['seconds']:.2f} s for a returning visitor (< {TARGETS['first']} s), "
              f"filter change {r['filter']['seconds']:.2f} s (< {TARGETS['filter']} s), "
              f"map payload {r['map_bytes'] / 1e6:.2f} MB, whole page "
              f"{(r['first']['page_ws'] + r['first']['http']) / 1e6:.2f} MB (< {TARGETS['payload_mb']} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
