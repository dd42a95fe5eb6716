"""The folium map: one CircleMarker per resolved event, coloured by
geo_precision, with a legend and a popup holding the evidence.

Everything shown comes from articles and is untrusted: every value goes
through :mod:`dashboard.safe` (HTML-escaped, inert inside folium's JS template
literals, bidi-isolated), and links are made only for http(s) URLs.
"""

from __future__ import annotations

from pathlib import Path

import folium
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from . import assets, density
from .data import located
from .safe import escape_text, safe_url, text_html

__all__ = ["build_map", "filtered_map", "popup_html", "tooltip_html", "marker_class", "escape_text", "safe_url", "Legend", "localize"]

#: Marker colour for each geo_precision, finest first (colour-blind safe).
PRECISION_COLORS: dict[str, str] = {
    "point": "#d7301f",
    "district": "#fc8d59",
    "region": "#4575b4",
    "country": "#7b3294",
}
PRECISION_LABELS: dict[str, str] = {
    "point": "point (town, village, site)",
    "district": "district",
    "region": "region",
    "country": "country",
}
UNKNOWN_COLOR = "#636363"
#: CSS class on every event marker's SVG path (the browser tests count them).
MARKER_CLASS = "ea-event"

WORLD_VIEW = ((20.0, 0.0), 2)
MAX_FIT_ZOOM = 9


def _date_text(row: pd.Series) -> str:
    start, end = str(row.get("date", "")), str(row.get("date_end", ""))
    text = start if not end or end == start else f"{start} – {end}"
    precision = str(row.get("date_precision", ""))
    return f"{text} ({precision})" if precision and precision != "day" else text


def popup_html(row: pd.Series) -> str:
    """The popup of one event. Every value from the data is escaped and wrapped
    in ``<bdi>`` by :func:`dashboard.safe.text_html`; only our own tags remain."""
    t = text_html
    place = row.get("place") or row.get("mention") or ""
    where = ", ".join(str(v) for v in (row.get("admin1"), row.get("country")) if v and v != place)
    source = t(row.get("source") or "source")
    url = safe_url(row.get("url"))
    if url:
        source = f'<a href="{escape_text(url)}" target="_blank" rel="noopener noreferrer nofollow">{source}</a>'
    lines = [
        '<div class="ea-popup" style="max-width:340px">',
        f"<b>{t(_date_text(row))}</b><br>",
        f"<b>{t(place)}</b> <small>({t(row.get('geo_precision'))})</small>",
        f"<br><small>{t(where)}</small>" if where else "",
        f"<br>mention: <i>{t(row.get('mention'))}</i>",
        '<blockquote style="margin:6px 0;padding-left:6px;border-left:3px solid #ccc">'
        f"{t(row.get('sentence'))}</blockquote>",
        f"source: {source}",
        "</div>",
    ]
    return "".join(lines)


def tooltip_html(row: pd.Series) -> str:
    """Date and place, escaped and bidi-isolated like the popup."""
    return text_html(f"{row['date']} · {row['place'] or row['mention']}")


def marker_class(precision: str) -> str:
    """CSS classes of a marker: only known precision names become classes."""
    known = precision if precision in PRECISION_COLORS else "unknown"
    return f"{MARKER_CLASS} ea-{known}"


class Legend(MacroElement):
    """A Leaflet control listing the marker colours and how many events of each
    are on the map. Its HTML is passed to JavaScript through ``tojson``, so it
    is a JS string, not code. Each count is a ``span[data-ea-precision=CODE]``
    (CODE: the index in :data:`dashboard.density.PRECISIONS`) that the data
    layer rewrites while playing, when the day's events are picked in the browser."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "bottomright"});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "ea-legend");
            div.innerHTML = {{ this.html|tojson }};
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, counts: dict[str, int]):
        super().__init__()
        self._name = "Legend"
        rows = "".join(
            f'<div><span style="display:inline-block;width:11px;height:11px;border-radius:50%;'
            f'background:{color};margin-right:6px;vertical-align:middle"></span>'
            f"{escape_text(PRECISION_LABELS[key])} &middot; "
            f'<span data-ea-precision="{code}">{int(counts.get(key, 0))}</span></div>'
            for code, (key, color) in enumerate(PRECISION_COLORS.items())
        )
        self.html = (
            '<div style="background:rgba(255,255,255,.92);padding:6px 9px;border-radius:5px;'
            'font:12px/1.5 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.35)">'
            f"<b>geo precision</b>{rows}</div>"
        )


def localize(m: folium.Map, base: str) -> folium.Map:
    """Make the map load only local JS/CSS (see :mod:`dashboard.assets`):
    Leaflet and jQuery; Bootstrap, Font Awesome and awesome-markers are not
    used by this map and are dropped."""
    m.default_js = assets.map_js(base)
    m.default_css = assets.map_css(base)
    return m


def build_map(events: pd.DataFrame, asset_base: str | None = None, mode: str = "markers",
              all_events: pd.DataFrame | None = None, static_dir: Path | None = None,
              version: object = None, play: bool = False, select: bool = False) -> folium.Map:
    """A folium Map of the resolved events in ``events`` (others are skipped),
    fitted to them; the world when there are none.

    ``mode`` is how they are drawn (see :mod:`dashboard.density`): ``markers``
    (a CircleMarker each), ``clusters`` (supercluster over compact data, popups
    built on click) or ``heat`` (Leaflet.heat); ``auto`` picks markers or
    clusters by the number of events.

    With ``play`` the events are always drawn from compact data that holds
    their dates, and nothing is drawn until a :class:`density.DayWindow` picks
    the day's events in the browser (:func:`dashboard.timeline.playing_map`):
    the map stays the same from step to step. With ``select`` (and a ``mode``
    of ``markers``, ``clusters`` or ``heat``, drawn as it is) they are drawn
    from compact data too, but only those a :class:`density.Selection` picks
    (:func:`filtered_map`).

    For clusters, the popup records of ``all_events`` (default ``events``; pass
    the whole store so that filtering the map does not rewrite them) are written
    once under ``static_dir/popups/`` (default: the served static folder), in a
    folder named after ``version`` when given (see :func:`density.write_popups`)."""
    keep = _located(events)
    if not select:
        mode = density.resolve_mode(mode, int(keep.sum()))
    elif mode not in ("markers", "clusters", "heat"):
        raise ValueError(f"a selection map needs the mode it draws, not {mode!r}")
    (center, zoom) = WORLD_VIEW
    m = folium.Map(location=list(center), zoom_start=zoom, tiles="OpenStreetMap", control_scale=True)
    base = asset_base if asset_base is not None else assets.static_base_url()
    localize(m, base)
    if mode == "markers" and keep.sum() <= density.FOLIUM_MARKERS_MAX and not play and not select:
        points = events.loc[keep]
        _add_markers(m, points)
        density.ReadySignal("markers", len(points)).add_to(m)
        return _finish(m, points)
    # Only the columns the compact data needs (copying every column of 100,000
    # events took 0.1-0.3 s a rerun).
    points = pd.DataFrame(events.loc[keep, [c for c in density.MAP_COLUMNS if c in events.columns]])
    # Drawn from compact data by our own script: no folium Popup, so no jQuery to load first.
    m.default_js = [js for js in m.default_js if js[0] != "jquery"]
    if mode in ("markers", "clusters"):
        clustered = mode == "clusters"
        if clustered:
            m.default_js = m.default_js + assets.cluster_js(base)
        colors = [PRECISION_COLORS[p] for p in density.PRECISIONS] + [UNKNOWN_COLOR]
        everything = events if all_events is None else all_events
        key = density.write_popups(everything, (static_dir or assets.STATIC_DIR) / density.POPUP_FOLDER, version)
        density.ClusterLayer(points, colors, density.popup_rows(points, everything),
                             f"{base}/{density.POPUP_FOLDER}/{key}", clustered=clustered, play=play,
                             select=select).add_to(m)
    else:
        m.default_js = m.default_js + assets.heat_js(base)
        density.HeatLayer(points, play=play, select=select).add_to(m)
    return _finish(m, points)


def filtered_map(window: pd.DataFrame, shown: pd.DataFrame, asset_base: str | None = None, mode: str = "auto",
                 version: object = None, static_dir: Path | None = None
                 ) -> tuple[folium.Map, folium.FeatureGroup | None]:
    """The map of ``shown`` (what the filters keep of ``window``, the events
    read from the store) as ``(base, selection)`` for ``st_folium(base,
    feature_group_to_add=selection)``.

    The base map holds every located event of ``window`` and is fitted to them,
    so it stays the same while only the filters change: streamlit-folium then
    keeps its iframe and Leaflet map (zoom and position included) and swaps in
    the new :class:`density.Selection`, which picks the shown events in the
    browser (a new map at 100,000 events cost a new iframe, its scripts and
    ~2.5 MB of data on every filter change). For the same reason ``auto``
    picks markers or clusters by the number of located events in ``window``,
    not in ``shown`` (:func:`density.resolve_mode`); an explicit ``markers``
    still falls back to clusters when more than :data:`density.MARKERS_MAX`
    are shown. When ``window`` has at most :data:`density.FOLIUM_MARKERS_MAX`
    located events and markers are drawn, they are folium markers with their
    popups in the page, drawn from ``shown`` alone: ``selection`` is None."""
    in_window, on_screen = _located(window), _located(shown)
    n_window = int(in_window.sum())
    drawn = density.resolve_mode(mode, int(on_screen.sum()) if mode == "markers" else n_window)
    if drawn == "markers" and n_window <= density.FOLIUM_MARKERS_MAX:
        return build_map(shown, asset_base, mode=drawn, static_dir=static_dir), None
    base = build_map(window, asset_base, mode=drawn, all_events=window, static_dir=static_dir, version=version,
                     select=True)
    points = window.loc[in_window]
    rows = density.popup_rows(shown.loc[on_screen], points)
    selection = folium.FeatureGroup(name="selection")
    density.Selection(density.selection_mask(len(points), rows)).add_to(selection)
    return base, selection


def _located(events: pd.DataFrame) -> pd.Series:
    """:func:`located`, also for an empty frame that has no columns."""
    return located(events) if len(events) else pd.Series(False, index=events.index, dtype=bool)


def _finish(m: folium.Map, points: pd.DataFrame) -> folium.Map:
    """Fit the map to the events and add the legend of their precisions."""
    if len(points):
        lats, lons = points["lat"].astype(float), points["lon"].astype(float)
        m.fit_bounds([[lats.min(), lons.min()], [lats.max(), lons.max()]], padding=(30, 30), max_zoom=MAX_FIT_ZOOM)
    by_precision = points["geo_precision"].value_counts().to_dict() if len(points) else {}
    Legend(by_precision).add_to(m)
    return m


def _add_markers(m: folium.Map, points: pd.DataFrame) -> None:
    """One CircleMarker per event, with its popup and tooltip."""
    layer = folium.FeatureGroup(name="events").add_to(m)
    for _, row in points.sort_values("date", kind="stable").iterrows():
        precision = str(row["geo_precision"])
        color = PRECISION_COLORS.get(precision, UNKNOWN_COLOR)
        folium.CircleMarker(
            location=[float(row["lat"]), float(row["lon"])],
            radius=8 if precision == "point" else 10,
            color="#222222",
            weight=1,
            fill=True,
            fill_color=color,
            fill_opacity=0.85,
            class_name=marker_class(precision),
            popup=folium.Popup(popup_html(row), max_width=360,
                               auto_pan_padding_top_left=list(density.POPUP_PAN_TOP_LEFT),
                               auto_pan_padding_bottom_right=list(density.POPUP_PAN_BOTTOM_RIGHT)),
            tooltip=folium.Tooltip(tooltip_html(row)),
        ).add_to(layer)
