"""Density at scale: how the map draws many events, and the table's pages.

Three map modes (the sidebar's *Map* radio):

- ``markers``: one SVG CircleMarker per event. Up to :data:`FOLIUM_MARKERS_MAX`
  events they are folium CircleMarkers with their popup HTML in the page
  (:func:`dashboard.mapview.build_map`); above, they are drawn from the same
  compact data as the clusters. Every marker is its own SVG path, so this is
  for up to :data:`MARKERS_MAX` events; above that the map draws clusters
  instead and says so.
- ``clusters``: leaflet.markercluster over one compact JSON array of the
  events (:class:`ClusterLayer`). The page holds each event once as numbers
  (lat, lon, precision, indices into one table of distinct strings); popups are
  built on click from that data with ``textContent`` (never ``innerHTML`` of
  data), so 100,000 events do not mean 100,000 popup strings in the page.
- ``heat``: Leaflet.heat over the same coordinates only (:class:`HeatLayer`).

``auto`` (the default) is ``markers`` up to :data:`AUTO_MARKERS_MAX` located
events and ``clusters`` above.

Everything here is importable without Streamlit; :func:`page_of` and
:func:`page_count` paginate any frame (the events table).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from .safe import is_missing, safe_url

MODES = ("auto", "markers", "clusters", "heat")
MODE_LABELS = {"auto": "Auto", "markers": "Markers", "clusters": "Clusters", "heat": "Heat map"}
#: ``auto`` draws plain markers up to this many located events, clusters above.
AUTO_MARKERS_MAX = 1_000
#: An explicit ``markers`` choice above this many events draws clusters instead.
MARKERS_MAX = 5_000
#: Up to this many markers are folium CircleMarkers with their popup HTML in the
#: page; above it, markers are drawn from the compact data like clusters
#: (streamlit-folium spends ~3 ms of server time per folium marker).
FOLIUM_MARKERS_MAX = 200
#: Characters of the sentence kept in a cluster popup (the detail view has it all).
POPUP_SENTENCE_CHARS = 280
#: Rows per page of the events table.
PAGE_SIZE = 100

#: The columns the compact data is built from (see :func:`compact_points`, :func:`popup_rows`).
MAP_COLUMNS = ("event_id", "lat", "lon", "geo_precision", "date", "date_end")
#: Precision codes of the compact data, in the order of mapview.PRECISION_COLORS.
PRECISIONS = ("point", "district", "region", "country")


def resolve_mode(choice: str, n_located: int) -> str:
    """The mode actually drawn (``markers``, ``clusters`` or ``heat``) for the
    radio's ``choice`` and the number of events with a location."""
    if choice == "heat":
        return "heat"
    if choice == "clusters":
        return "clusters"
    if choice == "markers":
        return "markers" if n_located <= MARKERS_MAX else "clusters"
    return "markers" if n_located <= AUTO_MARKERS_MAX else "clusters"


def mode_note(choice: str, n_located: int) -> str | None:
    """A caption when the drawn mode is not the one asked for."""
    if choice == "markers" and resolve_mode(choice, n_located) != "markers":
        return (f"{n_located:,} events are too many for plain markers (at most {MARKERS_MAX:,}): "
                "showing clusters.")
    return None


# -- table pages ---------------------------------------------------------------

def page_count(n_rows: int, size: int = PAGE_SIZE) -> int:
    """Pages needed for ``n_rows`` rows; at least 1 (an empty table has one page)."""
    if size < 1:
        raise ValueError("page size must be at least 1")
    return max(1, math.ceil(n_rows / size))


def page_rows(n_rows: int, page: int, size: int = PAGE_SIZE) -> slice:
    """The row positions of page ``page`` (1-based) of ``n_rows`` rows, ``size``
    rows a page. A page past either end is clamped to the first or last page."""
    page = min(max(1, int(page)), page_count(n_rows, size))
    return slice((page - 1) * size, min(page * size, n_rows))


def page_of(frame: pd.DataFrame, page: int, size: int = PAGE_SIZE) -> pd.DataFrame:
    """Rows of page ``page`` of ``frame`` (see :func:`page_rows`). Returns a new frame."""
    return frame.iloc[page_rows(len(frame), page, size)].copy()


def page_label(n_rows: int, page: int, size: int = PAGE_SIZE) -> str:
    """"rows 101–200 of 12,345" for a page (clamped like :func:`page_of`)."""
    if n_rows == 0:
        return "no rows"
    rows = page_rows(n_rows, page, size)
    return f"rows {rows.start + 1:,}–{rows.stop:,} of {n_rows:,}"


# -- compact map data ------------------------------------------------------------

#: Characters that become \\uXXXX escapes in the embedded JSON: nothing can close
#: the <script> (``</script>``, ``<!--``), and no ``{``/``}`` reaches folium's
#: second Jinja pass or streamlit-folium's templates as a delimiter.
_JSON_SAFE = str.maketrans({c: f"\\u{ord(c):04x}" for c in "<>&{}\u2028\u2029"})


def script_json(value: list) -> str:
    """JSON text for a ``<script>``: arrays, numbers and strings only (no
    objects, so every ``{``/``}`` is inside a string and can be escaped)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).translate(_JSON_SAFE)


def _text(value: object) -> str:
    return "" if is_missing(value) else str(value)


def _date_texts(points: pd.DataFrame) -> pd.Series:
    start = points["date"].map(_text)
    end = points["date_end"].map(_text)
    text = start.where((end == "") | (end == start), start + " – " + end)
    precision = points["date_precision"].map(_text)
    return text.where((precision == "") | (precision == "day"), text + " (" + precision + ")")


def _where(points: pd.DataFrame, place: pd.Series) -> pd.Series:
    """admin1, country: each left out when empty or equal to the place."""
    admin1, country = points["admin1"].map(_text), points["country"].map(_text)
    a, c = admin1.where(admin1 != place, ""), country.where(country != place, "")
    return (a + ", " + c).where((a != "") & (c != ""), a + c)


def _clip(text: str, limit: int = POPUP_SENTENCE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


#: The popup fields, in the order of each popup record.
FIELDS = ("date", "place", "precision", "where", "mention", "sentence", "source", "url")
#: The folder of popup chunks inside the static folder (and URL).
POPUP_FOLDER = "popups"
#: Popup records per chunk file.
CHUNK_ROWS = 500
#: Popup chunk folders not used for this long are removed.
POPUP_MAX_AGE_S = 24 * 3600


def popup_records(events: pd.DataFrame) -> list[list[str]]:
    """One record of :data:`FIELDS` per event (texts as they are: the browser
    shows them with ``textContent``); sentences cut to :data:`POPUP_SENTENCE_CHARS`,
    URLs other than absolute http(s) become "" (never links)."""
    place = events["place"].map(_text)
    place = place.where(place != "", events["mention"].map(_text))
    columns = [
        _date_texts(events), place, events["geo_precision"].map(_text), _where(events, place),
        events["mention"].map(_text), events["sentence"].map(lambda v: _clip(_text(v))),
        events["source"].map(lambda v: _text(v) or "source"), events["url"].map(lambda v: safe_url(v) or ""),
    ]
    return [list(r) for r in zip(*(c.tolist() for c in columns))]


def popup_key(events: pd.DataFrame) -> str:
    """A digest of everything a popup shows, for every event, in order: the
    name of the folder of popup chunks (content-addressed, so a change in the
    store, a review or another order gives another folder)."""
    cols = ["event_id", "date", "date_end", "date_precision", "place", "mention", "geo_precision",
            "admin1", "country", "sentence", "source", "url"]
    frame = pd.DataFrame({c: events[c] for c in cols})
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(str(POPUP_SENTENCE_CHARS).encode())
    return digest.hexdigest()[:24]


def write_popups(events: pd.DataFrame, root: Path, version: object = None) -> str:
    """Write the popup records of ``events`` as ``root/KEY/N.json`` (records
    ``N*CHUNK_ROWS`` onwards) unless that folder exists; the folder is built
    aside and renamed into place, so a browser never reads half a chunk.
    Folders unused for :data:`POPUP_MAX_AGE_S` are removed. Returns KEY.

    KEY is :func:`popup_key` of the events, or, when the caller knows a
    ``version`` that changes whenever the events do (the store's path and
    version), a digest of that (hashing 100,000 events takes 0.5 s a rerun)."""
    if version is None:
        key = popup_key(events)
    else:
        key = hashlib.sha256(repr((version, len(events), POPUP_SENTENCE_CHARS)).encode()).hexdigest()[:24]
    target = root / key
    now = time.time()
    if target.is_dir():
        os.utime(target, (now, now))
    else:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=root, prefix=".write-"))
        try:
            os.chmod(staging, 0o755)
            records = popup_records(events)
            for n, first in enumerate(range(0, len(records), CHUNK_ROWS)):
                text = json.dumps(records[first:first + CHUNK_ROWS], ensure_ascii=False, separators=(",", ":"))
                (staging / f"{n}.json").write_text(text, encoding="utf-8")
            try:
                os.rename(staging, target)
            except OSError:  # another process wrote the same folder first
                if not target.is_dir():
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    for old in root.iterdir():
        if old.name != key and old.is_dir() and now - old.stat().st_mtime > POPUP_MAX_AGE_S:
            shutil.rmtree(old, ignore_errors=True)
    return key


def compact_points(points: pd.DataFrame, rows: list[int] | None = None, play: bool = False,
                   select: bool = False) -> list:
    """The located events as ``[coords, precision_codes, rows]``:
    ``coords`` is ``[lat0, lon0, lat1, lon1, …]`` (5 decimals, about 1 m),
    ``precision_codes`` index :data:`PRECISIONS` (4 = other) and ``rows`` is
    each event's record number in the popup chunks (empty for the heat map).
    With ``play``, two more lists, ``starts`` and ``ends``: each event's
    [date, date_end] as ranks (:func:`interval_ranks`), for the browser to pick
    a day's events (and the precision codes, for the legend, also for the heat map).
    With ``select`` the precision codes are sent too (a :class:`Selection`
    rewrites the legend's counts, also for the heat map)."""
    lat = points["lat"].astype(float).round(5).to_numpy()
    lon = points["lon"].astype(float).round(5).to_numpy()
    coords = [0.0] * (2 * len(points))
    coords[0::2], coords[1::2] = lat.tolist(), lon.tolist()
    if rows is None and not play and not select:
        return [coords, [], []]
    codes = pd.Categorical(points["geo_precision"], categories=list(PRECISIONS)).codes
    precision = np.where(codes < 0, len(PRECISIONS), codes).tolist()
    compact = [coords, precision, [] if rows is None else [int(r) for r in rows]]
    if play:
        compact += [r.tolist() for r in interval_ranks(points)[1:]]
    return compact


def _interval_texts(points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each event's date and date_end (its date when empty) as the strings
    :func:`pipelines.filters.date_mask` compares."""
    ends = points["date_end"].where(points["date_end"].astype(str) != "", points["date"])
    return points["date"].astype(str).to_numpy(), ends.astype(str).to_numpy()


def interval_ranks(points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(keys, starts, ends)``: the sorted distinct date strings of the events,
    and each event's date and date_end as positions in ``keys``. Comparing ranks
    is comparing the strings, which is how the dashboard's date filter works, so
    the browser keeps exactly the events Python would (:func:`window_ranks`)."""
    start, end = _interval_texts(points)
    keys = np.unique(np.concatenate([start, end])) if len(points) else np.array([], dtype=str)
    return keys, np.searchsorted(keys, start), np.searchsorted(keys, end)


def window_ranks(points: pd.DataFrame, start, end) -> tuple[int, int]:
    """``(lo, hi)`` such that an event is in [start, end] (dates or None: open)
    exactly when its ``end_rank >= lo`` and ``start_rank <= hi``."""
    keys = interval_ranks(points)[0]
    lo = -1 if start is None else int(np.searchsorted(keys, start.isoformat(), side="left"))
    hi = len(keys) if end is None else int(np.searchsorted(keys, end.isoformat(), side="right")) - 1
    return lo, hi


def popup_rows(points: pd.DataFrame, events: pd.DataFrame) -> list[int]:
    """Each point's position in ``events`` (the popup records): by index label
    when ``points`` was filtered from ``events`` (fast), else by event_id."""
    if events.index.is_unique:
        found = events.index.get_indexer(points.index)
        if (found >= 0).all() and (events["event_id"].to_numpy()[found] == points["event_id"].to_numpy()).all():
            return found.tolist()
    ids = events["event_id"].reset_index(drop=True)
    position = pd.Series(ids.index, index=ids).loc[~ids.duplicated().to_numpy()]
    found = position.reindex(points["event_id"])
    if found.isna().any():
        raise ValueError("every event on the map must be among the events whose popups were written")
    return found.astype(int).tolist()


class _RawScript(Element):
    """Script text added to the figure as it is: folium would otherwise compile
    a MacroElement's rendered script as a Jinja template again (slow for
    megabytes of data, and a template injection if data held ``{{``)."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class _DataLayer(MacroElement):
    """A layer drawn in the browser from :func:`compact_points` data. The JS is
    rendered once (``js()``) and used both by folium's page and by
    streamlit-folium, which renders each element's ``script`` macro itself.

    With ``play``, the data carries each event's dates and the layer draws
    nothing until ``window.eaDensity.show(lo, hi)`` (:class:`DayWindow`, sent
    on each step of the timeline) picks the events of that day: the map, its
    zoom and its data stay; only what is drawn and the legend's counts change."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.js() }}{% endmacro %}")
    _js_template: Template

    def __init__(self, points: pd.DataFrame, rows: list[int] | None = None, play: bool = False,
                 select: bool = False):
        super().__init__()
        self.play = bool(play)
        self.select = bool(select) and not self.play
        self.data = script_json(compact_points(points, rows, play=self.play, select=self.select))
        self.count = len(points)
        self._js: str | None = None

    def js(self) -> str:
        if self._js is None:
            head, tail = self._js_template.render(this=self).split("__EA_DATA__")
            self._js = head + self.data + tail
        return self._js

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        figure.script.add_child(_RawScript(self.js()), name=self.get_name())


# How every data layer's script starts: its map, the ready mark cleared (the
# bench and the browser tests wait for it), and the compact data unpacked
# (coordinates, precision codes, popup rows, start and end ranks; see compact_points).
_LAYER_START_JS = """
(function () {
    var map = {{ this._parent.get_name() }};
    document.body.removeAttribute("data-ea-ready");
    if (window.performance && performance.mark) { performance.mark("ea-layer-start"); }  // bench_dashboard
    var SELECT = {{ this.select|tojson }};  // draw only what a Selection picks
    var D = __EA_DATA__;
    var C = D[0], P = D[1], R = D[2], S = D[3], E = D[4], n = C.length / 2;"""

_POPUP_JS = """
    var NAMES = ["point", "district", "region", "country", "unknown"];
    var chunks = {};
    function record(i, then) {
        var r = R[i], c = Math.floor(r / CHUNK);
        if (chunks[c] && chunks[c].data) { then(chunks[c].data[r - c * CHUNK]); return; }
        if (!chunks[c]) {
            chunks[c] = {waiting: []};
            fetch(BASE + "/" + c + ".json").then(function (resp) {
                if (!resp.ok) { throw new Error("popup data: HTTP " + resp.status); }
                return resp.json();
            }).then(function (data) {
                var waiting = chunks[c].waiting;
                chunks[c] = {data: data};
                waiting.forEach(function (w) { w(); });
            }).catch(function (err) { delete chunks[c]; console.warn(String(err)); });
        }
        chunks[c].waiting.push(function () { record(i, then); });
    }
    function bdi(parent, tag, text) {
        var outer = tag ? L.DomUtil.create(tag, "", parent) : parent;
        if (text) { var b = L.DomUtil.create("bdi", "", outer); b.textContent = text; }
        return outer;
    }
    function popupContent(f) {
        var div = L.DomUtil.create("div", "ea-popup");
        div.style.maxWidth = "340px";
        bdi(div, "b", f[0]);
        L.DomUtil.create("br", "", div);
        bdi(div, "b", f[1]);
        div.appendChild(document.createTextNode(" "));
        bdi(div, "small", "(" + f[2] + ")");
        if (f[3]) { L.DomUtil.create("br", "", div); bdi(div, "small", f[3]); }
        L.DomUtil.create("br", "", div);
        div.appendChild(document.createTextNode("mention: "));
        bdi(div, "i", f[4]);
        var quote = bdi(div, "blockquote", f[5]);
        quote.style.cssText = "margin:6px 0;padding-left:6px;border-left:3px solid #ccc";
        div.appendChild(document.createTextNode("source: "));
        if (/^https?:\\/\\//i.test(f[7])) {
            var a = bdi(div, "a", f[6]);
            a.href = f[7]; a.target = "_blank"; a.rel = "noopener noreferrer nofollow";
        } else {
            bdi(div, "", f[6]);
        }
        return div;
    }
"""


#: Shared by the layers: which events a day window keeps, the legend's counts,
#: the ready signal, and installing ``window.eaDensity`` (then applying a day
#: window that arrived first).
_SHOW_JS = """
    function inWindow(lo, hi) {
        var keep = [];
        for (var i = 0; i < n; i++) { if (E[i] >= lo && S[i] <= hi) { keep.push(i); } }
        return keep;
    }
    function setLegend(keep) {
        var counts = [0, 0, 0, 0, 0];
        for (var k = 0; k < keep.length; k++) { counts[P[keep[k]]] += 1; }
        var cells = document.querySelectorAll(".ea-legend [data-ea-precision]");
        for (var c = 0; c < cells.length; c++) {
            cells[c].textContent = String(counts[Number(cells[c].getAttribute("data-ea-precision"))] || 0);
        }
    }
    function ready(count) {
        if (window.performance && performance.mark) { performance.mark("ea-layer-drawn"); }
        document.body.setAttribute("data-ea-ready-at", String(Date.now()));
        document.body.setAttribute("data-ea-ready", MODE + ":" + count);
    }
    function install(api) {
        window.eaDensity = api;
        if (SELECT) {
            if (window.eaSelection) { api.pick(window.eaSelection); }
            return;
        }
        var pending = window.eaDayWindow;
        if (!PLAY) { api.draw(null); }
        else if (pending) { api.show(pending[0], pending[1]); }
    }
    function showKept(api, keep) {
        api.shown = keep.length;
        setLegend(keep);
        api.draw(keep);
    }
    function showWindow(api, lo, hi) {
        api.window = [lo, hi];
        showKept(api, inWindow(lo, hi));
    }
    function pickSelection(api, mask) {
        var bits = atob(mask), keep = [];
        for (var i = 0; i < n; i++) {
            if ((bits.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1) { keep.push(i); }
        }
        showKept(api, keep);
    }
"""

#: Cluster icons (supercluster gives counts and positions; these are the looks
#: leaflet.markercluster's default theme had).
CLUSTER_CSS = (
    ".marker-cluster{background-clip:padding-box;border-radius:20px}"
    ".marker-cluster div{width:30px;height:30px;margin-left:5px;margin-top:5px;text-align:center;"
    "border-radius:15px;font:12px 'Helvetica Neue',Arial,Helvetica,sans-serif}"
    ".marker-cluster span{line-height:30px}"
    ".marker-cluster-small{background-color:rgba(181,226,140,.6)}"
    ".marker-cluster-small div{background-color:rgba(110,204,57,.6)}"
    ".marker-cluster-medium{background-color:rgba(241,211,87,.6)}"
    ".marker-cluster-medium div{background-color:rgba(240,194,12,.6)}"
    ".marker-cluster-large{background-color:rgba(253,156,115,.6)}"
    ".marker-cluster-large div{background-color:rgba(241,128,23,.6)}"
)
#: Popups keep clear of the zoom control (top left) and the legend (bottom right).
POPUP_PAN_TOP_LEFT = (60, 20)
POPUP_PAN_BOTTOM_RIGHT = (20, 20)


class ClusterLayer(_DataLayer):
    """Clusters computed by supercluster over the compact points (or, with
    ``clustered`` False, one SVG CircleMarker per point). Only the clusters and
    points of the current view and zoom are Leaflet layers, redrawn when the
    map moves: 100,000 events are indexed in a fraction of a second instead of
    becoming 100,000 markers. A click on a cluster zooms to where it splits; a
    click on an event opens its popup, built then (text only) from its record,
    which the browser fetches from the chunk files :func:`write_popups` wrote
    under the static route (``popup_url``)."""

    _js_template = Template(_LAYER_START_JS + """
    var COLORS = {{ this.colors }}, BASE = {{ this.popup_url }}, CHUNK = {{ this.chunk }};
    var MODE = {{ ("clusters" if this.clustered else "markers")|tojson }}, PLAY = {{ this.play|tojson }};
    var PAN_TL = {{ this.pan_top_left|tojson }}, PAN_BR = {{ this.pan_bottom_right|tojson }};
""" + _POPUP_JS + _SHOW_JS + """
    if (MODE === "clusters" && !document.getElementById("ea-cluster-css")) {
        var style = document.createElement("style");
        style.id = "ea-cluster-css";
        style.textContent = {{ this.css|tojson }};
        document.head.appendChild(style);
    }
    var group = L.featureGroup().addTo(map);
    var markers = new Array(n);
    function marker(i) {
        if (!markers[i]) {
            var p = P[i];
            markers[i] = L.circleMarker([C[2 * i], C[2 * i + 1]], {
                radius: p === 0 ? 8 : 10, color: "#222222", weight: 1, fill: true,
                fillColor: COLORS[p], fillOpacity: 0.85, className: "ea-event ea-" + NAMES[p]
            });
            markers[i].eaIndex = i;
        }
        return markers[i];
    }
    function clusterMarker(f) {
        var count = f.properties.point_count, at = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        var outer = document.createElement("div"), label = document.createElement("span");
        label.textContent = String(count);
        outer.appendChild(label);
        var size = count < 10 ? "small" : (count < 100 ? "medium" : "large");
        var m = L.marker(at, {icon: L.divIcon({html: outer, className: "marker-cluster marker-cluster-" + size,
                                                  iconSize: L.point(40, 40)})});
        m.eaCluster = f.properties.cluster_id;
        m.eaCount = count;
        return m;
    }
    var api = {mode: MODE, count: n, shown: n, group: group, index: null, window: null, markers: marker};
    function redraw() {
        var layers = [];
        if (api.index) {
            var b = map.getBounds().pad(0.2);
            var found = api.index.getClusters([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
                                              Math.round(map.getZoom()));
            for (var k = 0; k < found.length; k++) {
                layers.push(found[k].properties.cluster ? clusterMarker(found[k]) : marker(found[k].properties.i));
            }
        } else if (api.keep) {
            for (var j = 0; j < api.keep.length; j++) { layers.push(marker(api.keep[j])); }
        }
        group.clearLayers();
        for (var m = 0; m < layers.length; m++) { group.addLayer(layers[m]); }
    }
    api.draw = function (keep) {
        if (keep === null) { keep = new Array(n); for (var i = 0; i < n; i++) { keep[i] = i; } }
        api.keep = keep;
        if (MODE === "clusters") {
            var features = new Array(keep.length);
            for (var k = 0; k < keep.length; k++) {
                var i = keep[k];
                features[k] = {type: "Feature", properties: {i: i},
                               geometry: {type: "Point", coordinates: [C[2 * i + 1], C[2 * i]]}};
            }
            api.index = new Supercluster({radius: 60, maxZoom: 16}).load(features);
        }
        redraw();
        ready(keep.length);
    };
    api.show = function (lo, hi) { showWindow(api, lo, hi); };
    api.pick = function (mask) { pickSelection(api, mask); };
    if (MODE === "clusters") { map.on("moveend", redraw); }  // plain markers are all drawn once
    group.on("click", function (e) {
        var layer = e.propagatedFrom || e.layer, i = layer.eaIndex, at = layer.getLatLng();
        if (layer.eaCluster !== undefined) {
            var zoom = Math.min(api.index.getClusterExpansionZoom(layer.eaCluster), map.getMaxZoom());
            map.setView(at, zoom);
            return;
        }
        if (i === undefined) { return; }
        record(i, function (f) {
            L.popup({maxWidth: 360, autoPanPaddingTopLeft: PAN_TL, autoPanPaddingBottomRight: PAN_BR})
                .setLatLng(at).setContent(popupContent(f)).openOn(map);
        });
    });
    group.on("mouseover", function (e) {
        var layer = e.propagatedFrom || e.layer, i = layer.eaIndex;
        if (i === undefined || layer.getTooltip()) { return; }
        record(i, function (f) {
            var tip = document.createElement("bdi");
            tip.textContent = f[0].split(" ")[0] + " · " + f[1];
            layer.bindTooltip(tip);
            if (layer._map) { layer.openTooltip(); }
        });
    });
    install(api);
})();
""")

    def __init__(self, points: pd.DataFrame, colors: list[str], rows: list[int], popup_url: str,
                 clustered: bool = True, play: bool = False, select: bool = False):
        super().__init__(points, rows, play=play, select=select)
        self.clustered = bool(clustered)
        self.colors = json.dumps(colors)
        self.popup_url = script_json([popup_url])[1:-1]
        self.chunk = int(CHUNK_ROWS)
        self.css = CLUSTER_CSS
        self.pan_top_left, self.pan_bottom_right = list(POPUP_PAN_TOP_LEFT), list(POPUP_PAN_BOTTOM_RIGHT)
        self._name = "ClusterLayer"


class HeatLayer(_DataLayer):
    """Leaflet.heat over the events' coordinates (with ``play``, those of the
    day window only)."""

    _js_template = Template(_LAYER_START_JS + """
    var MODE = "heat", PLAY = {{ this.play|tojson }};
""" + _SHOW_JS + """
    var heat = L.heatLayer([], {radius: 14, blur: 16, minOpacity: 0.3, maxZoom: 11});
    heat.addTo(map);
    var api = {mode: "heat", count: n, shown: n, layer: heat, window: null};
    api.draw = function (keep) {
        var count = keep === null ? n : keep.length, points = new Array(count);
        for (var k = 0; k < count; k++) {
            var i = keep === null ? k : keep[k];
            points[k] = [C[2 * i], C[2 * i + 1]];
        }
        heat.setLatLngs(points);
        L.Util.requestAnimFrame(function () { ready(count); });
    };
    api.show = function (lo, hi) { showWindow(api, lo, hi); };
    api.pick = function (mask) { pickSelection(api, mask); };
    install(api);
})();
""")

    def __init__(self, points: pd.DataFrame, play: bool = False, select: bool = False):
        super().__init__(points, play=play, select=select)
        self._name = "HeatLayer"


class DayWindow(MacroElement):
    """The timeline's step while playing: which events the map's data layer
    shows, as ranks ``[lo, hi]`` (:func:`window_ranks`). Sent to the browser as
    the feature group that streamlit-folium swaps in place on each step; kept
    on ``window`` too in case it runs before the layer is installed."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.eaDayWindow = {{ this.window|tojson }};
        if (window.eaDensity && window.eaDensity.show) {
            window.eaDensity.show(window.eaDayWindow[0], window.eaDayWindow[1]);
        }
        {% endmacro %}
    """)

    def __init__(self, lo: int, hi: int):
        super().__init__()
        self._name = "DayWindow"
        self.window = [int(lo), int(hi)]


def selection_mask(n_points: int, rows: list[int]) -> str:
    """The events picked among ``n_points`` (their positions ``rows``) as a
    base64 bit string, the first event in the first byte's highest bit: 100,000
    events are 17 kB, whatever the filters keep."""
    bits = np.zeros(n_points, dtype=bool)
    bits[np.asarray(rows, dtype=np.int64)] = True
    return base64.b64encode(np.packbits(bits).tobytes()).decode("ascii")


def selected_rows(mask: str, n_points: int) -> list[int]:
    """The positions a :func:`selection_mask` picks (what the browser's
    ``pickSelection`` keeps), for tests and tools."""
    bits = np.unpackbits(np.frombuffer(base64.b64decode(mask), dtype=np.uint8))[:n_points]
    return np.flatnonzero(bits).tolist()


class Selection(MacroElement):
    """What the filters keep of a base map's events (a data layer built with
    ``select``), sent as the feature group streamlit-folium swaps in place: a
    filter change sends 17 kB instead of a new map, and the map keeps its
    Leaflet instance, zoom and position (:func:`dashboard.mapview.filtered_map`).
    Kept on ``window`` too in case it runs before the layer is installed."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.eaSelection = {{ this.mask|tojson }};
        if (window.eaDensity && window.eaDensity.pick) { window.eaDensity.pick(window.eaSelection); }
        {% endmacro %}
    """)

    def __init__(self, mask: str):
        super().__init__()
        self._name = "Selection"
        self.mask = str(mask)


class ReadySignal(MacroElement):
    """Marks the map frame's body ``data-ea-ready="markers:N"`` (and
    ``data-ea-ready-at``, the time in ms) once folium's markers are added (its
    script runs after theirs), as the other layers do when drawn: what the
    bench and the browser tests wait for."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        document.body.setAttribute("data-ea-ready-at", String(Date.now()));
        document.body.setAttribute("data-ea-ready", {{ this.value|tojson }});
        {% endmacro %}
    """)

    def __init__(self, mode: str, count: int):
        super().__init__()
        self._name = "ReadySignal"
        self.value = f"{mode}:{int(count)}"
