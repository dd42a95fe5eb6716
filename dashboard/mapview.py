"""The folium map: one CircleMarker per resolved event, coloured by
geo_precision, with a legend and a popup holding the evidence.

Everything shown comes from articles and is untrusted. folium puts popup and
tooltip HTML inside a JavaScript template literal (`` $(`...`) ``) without
escaping it, so text is escaped here twice over: ``html.escape`` for HTML, and
``\\``, `````` ` `````` and ``$`` as character references so that nothing can
close the literal or start a ``${...}`` substitution. Links are kept only for
http(s) URLs.
"""

from __future__ import annotations

import html
import math
from urllib.parse import urlsplit

import folium
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from . import assets
from .data import resolved

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


def escape_text(value: object) -> str:
    """Untrusted text → HTML text that is also inert inside a JS template literal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def safe_url(url: object) -> str | None:
    """The URL if it is an absolute http(s) URL, else None (``javascript:``,
    ``data:``, relative or malformed URLs are never made into links)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(ord(c) < 0x20 or c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _date_text(row: pd.Series) -> str:
    start, end = str(row.get("date", "")), str(row.get("date_end", ""))
    text = start if not end or end == start else f"{start} – {end}"
    precision = str(row.get("date_precision", ""))
    return f"{text} ({precision})" if precision and precision != "day" else text


def popup_html(row: pd.Series) -> str:
    """The popup of one event; every value is escaped (see module docstring)."""
    e = escape_text
    place = row.get("place") or row.get("mention") or ""
    where = ", ".join(str(v) for v in (row.get("admin1"), row.get("country")) if v and v != place)
    source = e(row.get("source") or "source")
    url = safe_url(row.get("url"))
    if url:
        source = f'<a href="{e(url)}" target="_blank" rel="noopener noreferrer nofollow">{source}</a>'
    lines = [
        f'<div class="ea-popup" style="max-width:340px">',
        f"<b>{e(_date_text(row))}</b><br>",
        f"<b>{e(place)}</b> <small>({e(row.get('geo_precision'))})</small>",
        f"<br><small>{e(where)}</small>" if where else "",
        f"<br>mention: <i>{e(row.get('mention'))}</i>",
        f'<blockquote style="margin:6px 0;padding-left:6px;border-left:3px solid #ccc">'
        f"{e(row.get('sentence'))}</blockquote>",
        f"source: {source}",
        "</div>",
    ]
    return "".join(lines)


class Legend(MacroElement):
    """A Leaflet control listing the marker colours. Its HTML is passed to
    JavaScript through ``tojson``, so it is a JS string, not code."""

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
            f"{escape_text(PRECISION_LABELS[key])} &middot; {int(counts.get(key, 0))}</div>"
            for key, color in PRECISION_COLORS.items()
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


def build_map(events: pd.DataFrame, asset_base: str | None = None) -> folium.Map:
    """A folium Map of the resolved events in ``events`` (others are skipped),
    fitted to them; the world when there are none."""
    points = resolved(events) if len(events) else events
    (center, zoom) = WORLD_VIEW
    m = folium.Map(location=list(center), zoom_start=zoom, tiles="OpenStreetMap", control_scale=True)
    localize(m, asset_base if asset_base is not None else assets.static_base_url())

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
            class_name=f"{MARKER_CLASS} ea-{escape_text(precision)}",
            popup=folium.Popup(popup_html(row), max_width=360),
            tooltip=folium.Tooltip(escape_text(f"{row['date']} · {row['place'] or row['mention']}")),
        ).add_to(layer)

    if len(points):
        lats, lons = points["lat"].astype(float), points["lon"].astype(float)
        m.fit_bounds([[lats.min(), lons.min()], [lats.max(), lons.max()]], padding=(30, 30), max_zoom=MAX_FIT_ZOOM)
    by_precision = points["geo_precision"].value_counts().to_dict() if len(points) else {}
    Legend(by_precision).add_to(m)
    return m
