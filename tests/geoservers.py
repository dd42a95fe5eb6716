"""A real local HTTP server that speaks Nominatim's and Photon's formats.

Used by the online geocoding tests so that they exercise geopy's real HTTP
stack without touching the internet::

    with FakeGeoServer() as server:
        server.domain          # "127.0.0.1:PORT"
        server.requests        # [Request(path, params, user_agent, at, wall), ...]
        server.mode = "503"    # applies to every request (see FAILURE_MODES)
        server.fail_next = 1   # fail only the next N requests, then answer
        server.script = ["503", "429;retry-after=1", "ok"]  # one mode per request,
                               # in order; afterwards ``mode`` applies again
        server.faults          # how many fault responses were produced
        server.gaps()          # seconds between consecutive request arrivals

* ``GET /search?q=…&format=json`` answers like Nominatim: a JSON list of
  places (``addressdetails=1`` adds ``address``; ``countrycodes`` filters;
  ``limit`` limits). Unknown names give ``[]`` (a real "not found").
* ``GET /api?q=…`` answers like Photon: a GeoJSON FeatureCollection.

Fault modes: HTTP errors ``"400" "401" "403" "429" "500" "502" "503"
"504"`` (an HTML body; ``"429;retry-after=2"`` adds ``Retry-After: 2``,
``"503;retry-after-date=2"`` an HTTP-date at least 2 s ahead, recorded in
``server.retry_after_sent``); ``"malformed"`` (truncated JSON), ``"empty"``
(200 with no body), ``"html"`` (200 with an HTML error page),
``"wrong-shape"``, ``"no-coords"`` (a place without lat/lon); ``"hang"``
(reads the request, never answers: a client timeout) and ``"drop"`` (closes
the connection without an answer). ``"empty-list"`` answers ``[]`` to any
query: a real "not found", not a fault. :func:`refused_port` gives a port
where connections are refused.

A query matches a place when its first comma-separated part equals the
place's name (case-insensitive), so "Kozinka, Belgorod Oblast, Russia"
finds Kozinka.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
import socket
import threading
import time
from dataclasses import dataclass
from typing import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Real places (coordinates from OpenStreetMap). The OSM/place ids are
# placeholders: nothing in the code under test interprets them.
PLACES = [
    {
        "name": "Kozinka",
        "lat": 50.4613,
        "lon": 35.6026,
        "class": "place",
        "type": "village",
        "addresstype": "village",
        "place_rank": 19,
        "osm_type": "node",
        "osm_id": 1000001,
        "address": {
            "village": "Kozinka",
            "county": "Grayvoronsky District",
            "state": "Belgorod Oblast",
            "country": "Russia",
            "country_code": "ru",
        },
    },
    {
        "name": "Gora-Podol",
        "lat": 50.4739,
        "lon": 35.6464,
        "class": "place",
        "type": "village",
        "addresstype": "village",
        "place_rank": 19,
        "osm_type": "node",
        "osm_id": 1000002,
        "address": {
            "village": "Gora-Podol",
            "county": "Grayvoronsky District",
            "state": "Belgorod Oblast",
            "country": "Russia",
            "country_code": "ru",
        },
    },
]

LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. https://osm.org/copyright"
HTTP_FAULTS = ("400", "401", "403", "429", "500", "502", "503", "504")
BODY_FAULTS = ("malformed", "empty", "html", "wrong-shape", "no-coords")
FAILURE_MODES = (*HTTP_FAULTS, *BODY_FAULTS, "hang", "drop")


@dataclass(frozen=True)
class Request:
    path: str
    params: dict[str, str]  # last value of each query parameter
    user_agent: str
    at: float  # time.monotonic() on arrival
    wall: float = 0.0  # time.time() on arrival (to compare with HTTP-dates)

    @property
    def q(self) -> str:
        return self.params.get("q", "")


def _display_name(place: dict) -> str:
    a = place["address"]
    return ", ".join(p for p in (place["name"], a.get("county"), a.get("state"), a.get("country")) if p)


def nominatim_json(place: dict, *, addressdetails: bool) -> dict:
    lat, lon = place["lat"], place["lon"]
    out = {
        "place_id": place["osm_id"] + 5000,
        "licence": LICENCE,
        "osm_type": place["osm_type"],
        "osm_id": place["osm_id"],
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        "class": place["class"],
        "type": place["type"],
        "place_rank": place["place_rank"],
        "importance": 0.25,
        "addresstype": place["addresstype"],
        "name": place["name"],
        "display_name": _display_name(place),
        "boundingbox": [f"{lat - 0.01:.7f}", f"{lat + 0.01:.7f}", f"{lon - 0.01:.7f}", f"{lon + 0.01:.7f}"],
    }
    if addressdetails:
        out["address"] = dict(place["address"])
    return out


def photon_feature(place: dict) -> dict:
    a = place["address"]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [place["lon"], place["lat"]]},
        "properties": {
            "osm_type": place["osm_type"][0].upper(),
            "osm_id": place["osm_id"],
            "osm_key": place["class"],
            "osm_value": place["type"],
            "type": "city" if place["class"] == "place" else "other",
            "name": place["name"],
            "county": a.get("county"),
            "state": a.get("state"),
            "country": a.get("country"),
            "countrycode": a.get("country_code", "").upper(),
            "extent": None,
        },
    }


class FakeGeoServer:
    def __init__(self, places: list[dict] | None = None) -> None:
        self.places = list(PLACES if places is None else places)
        self.requests: list[Request] = []
        self.mode = "ok"
        self.fail_next: int | None = None  # None: mode applies to every request
        self.script: list[str] = []  # modes for the next requests, consumed in order
        self.faults = 0  # fault responses produced (hangs and drops included)
        self.retry_after_sent: list[str] = []  # Retry-After header values sent
        self._lock = threading.Lock()
        self._release = threading.Event()  # lets "hang" handlers finish at stop()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------
    def start(self) -> "FakeGeoServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                server._handle(self)

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakeGeoServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def domain(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{host}:{port}"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def gaps(self) -> list[float]:
        """Seconds between consecutive request arrivals."""
        with self._lock:
            times = [r.at for r in self.requests]
        return [b - a for a, b in zip(times, times[1:])]

    # -- request handling ---------------------------------------------------
    def _current_mode(self) -> str:
        with self._lock:
            if self.script:
                return self.script.pop(0)
            if self.mode == "ok":
                return "ok"
            if self.fail_next is None:
                return self.mode
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.mode
            return "ok"

    def _match(self, q: str) -> list[dict]:
        name = q.split(",")[0].strip().casefold()
        return [p for p in self.places if p["name"].casefold() == name]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with self._lock:
            self.requests.append(Request(url.path, params, h.headers.get("User-Agent", ""),
                                         time.monotonic(), time.time()))
        mode = self._current_mode()
        photon = url.path == "/api"
        if url.path not in ("/search", "/api"):
            return self._send(h, 404, {"error": "not found"})
        mode, _, option = mode.partition(";")
        if mode not in ("ok", "empty-list"):
            with self._lock:
                self.faults += 1
        if mode == "hang":
            self._release.wait(timeout=10)  # never answers while the test runs
            h.close_connection = True
            return
        if mode == "drop":
            h.close_connection = True
            return  # the client sees the connection closed without an answer
        if mode in HTTP_FAULTS:
            headers = {}
            if option:
                headers["Retry-After"] = self._retry_after(option)
            return self._send(h, int(mode), "<html><body>Service error</body></html>", "text/html", headers)
        if mode == "malformed":
            return self._send(h, 200, '[{"place_id": 1, "lat": "50.46', "application/json")
        if mode == "empty":
            return self._send(h, 200, "", "application/json")
        if mode == "html":
            return self._send(h, 200, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        if mode == "wrong-shape":
            return self._send(h, 200, {"type": "FeatureCollection"} if photon else {})
        if mode == "no-coords":
            body = ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "Kozinka"}}]}
                    if photon else [{"place_id": 1, "display_name": "Kozinka", "name": "Kozinka"}])
            return self._send(h, 200, body)
        if mode == "empty-list":
            return self._send(h, 200, {"type": "FeatureCollection", "features": []} if photon else [])
        if mode != "ok":
            raise ValueError(f"unknown fault mode {mode!r}")

        places = self._match(params.get("q", ""))
        if not photon and params.get("countrycodes"):
            codes = params["countrycodes"].lower().split(",")
            places = [p for p in places if p["address"].get("country_code") in codes]
        if params.get("limit"):
            places = places[: int(params["limit"])]
        if photon:
            body = {"type": "FeatureCollection", "features": [photon_feature(p) for p in places]}
        else:
            details = params.get("addressdetails") == "1"
            body = [nominatim_json(p, addressdetails=details) for p in places]
        self._send(h, 200, body)

    def _retry_after(self, option: str) -> str:
        """"retry-after=2" -> "2"; "retry-after-date=2" -> an HTTP-date >= 2 s ahead."""
        name, _, value = option.partition("=")
        if name == "retry-after":
            header = value
        elif name == "retry-after-date":
            header = email.utils.formatdate(math.ceil(time.time() + float(value)), usegmt=True)
        else:
            raise ValueError(f"unknown fault option {option!r}")
        with self._lock:
            self.retry_after_sent.append(header)
        return header

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        data = (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)).encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", f"{content_type}; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)


@contextlib.contextmanager
def refused_port() -> Iterator[str]:
    """A "127.0.0.1:PORT" where every connection is refused.

    The port is held by a bound socket that never listens, so no other
    process can take it while the test runs and the kernel answers RST."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
