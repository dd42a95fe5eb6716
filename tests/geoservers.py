"""A real local HTTP server that speaks Nominatim's and Photon's formats.

Used by the online geocoding tests so that they exercise geopy's real HTTP
stack without touching the internet::

    with FakeGeoServer() as server:
        server.domain          # "127.0.0.1:PORT"
        server.requests        # [Request(path, params, user_agent, at), ...]
        server.mode = "503"    # "ok" | "500" | "503" | "403" | "malformed"
                               # | "wrong-shape" | "no-coords" | "hang"
        server.fail_next = 1   # fail only the next N requests, then answer

* ``GET /search?q=…&format=json`` answers like Nominatim: a JSON list of
  places (``addressdetails=1`` adds ``address``; ``countrycodes`` filters;
  ``limit`` limits). Unknown names give ``[]``.
* ``GET /api?q=…`` answers like Photon: a GeoJSON FeatureCollection.

A query matches a place when its first comma-separated part equals the
place's name (case-insensitive), so "Kozinka, Belgorod Oblast, Russia"
finds Kozinka.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
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
FAILURE_MODES = ("500", "503", "403", "malformed", "wrong-shape", "no-coords", "hang")


@dataclass(frozen=True)
class Request:
    path: str
    params: dict[str, str]  # last value of each query parameter
    user_agent: str
    at: float  # time.monotonic() on arrival

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

    # -- request handling ---------------------------------------------------
    def _current_mode(self) -> str:
        with self._lock:
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
            self.requests.append(Request(url.path, params, h.headers.get("User-Agent", ""), time.monotonic()))
        mode = self._current_mode()
        photon = url.path == "/api"
        if url.path not in ("/search", "/api"):
            return self._send(h, 404, {"error": "not found"})
        if mode == "hang":
            self._release.wait(timeout=10)  # never answers while the test runs
            return
        if mode in ("500", "503", "403"):
            return self._send(h, int(mode), "<html><body>Service error</body></html>", "text/html")
        if mode == "malformed":
            return self._send(h, 200, '[{"place_id": 1, "lat": "50.46', "application/json")
        if mode == "wrong-shape":
            return self._send(h, 200, {"type": "FeatureCollection"} if photon else {})
        if mode == "no-coords":
            body = ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "Kozinka"}}]}
                    if photon else [{"place_id": 1, "display_name": "Kozinka", "name": "Kozinka"}])
            return self._send(h, 200, body)

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

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body, content_type: str = "application/json") -> None:
        data = (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)).encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", f"{content_type}; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
