"""Event Atlas dashboard: ``streamlit run dashboard/app.py`` (or ``make run``).

Thin on purpose: ``main()`` wires widgets to the importable modules of the
``dashboard`` package, which hold all the logic.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repo root.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402
from streamlit_folium import st_folium  # noqa: E402

from dashboard import assets, cache, data, export, mapview  # noqa: E402
from pipelines.config import Settings  # noqa: E402
from pipelines.errors import EventAtlasError  # noqa: E402


def date_range(span: data.DateSpan):
    """The timeline slider; (start, end) of the range it selects."""
    if span.start == span.end:
        st.caption(f"All events are dated {span.start.isoformat()}.")
        return span.start, span.end
    start, end = st.slider(
        "Timeline", min_value=span.start, max_value=span.end,
        value=(span.start, span.end), format="YYYY-MM-DD",
        help="Events whose dates overlap this range (both ends included).",
    )
    return start, end


def main() -> None:
    st.set_page_config(page_title="Event Atlas", layout="wide")
    st.title("Event Atlas")
    cache.static_assets()
    if not st.get_option("server.enableStaticServing"):
        st.warning("server.enableStaticServing is off, so the map cannot load Leaflet: "
                   "run from the repository root, where .streamlit/config.toml turns it on.")
    store = Settings.from_env().store
    try:
        events = cache.events_frame(store, data.store_version(store))
    except EventAtlasError as exc:
        st.error(str(exc))
        return
    if events.empty:
        st.info(f"No events yet: run `python -m pipelines ingest geodata/examples` "
                f"(or your own articles) to fill the store `{store}`, then reload this page.")
        return
    span = data.date_span(events)
    start, end = date_range(span) if span else (None, None)
    shown = data.filter_dates(events, start, end)
    counts = data.counts(shown)

    st.markdown(f"**{data.shown_label(counts.total, len(events))}** · "
                f"{counts.resolved} on the map · {counts.unresolved} unresolved")
    st_folium(
        mapview.build_map(shown, assets.static_base_url(st.get_option("server.baseUrlPath"))),
        key="event_map", height=520, use_container_width=True, returned_objects=[],
    )
    st.download_button(
        "Download GeoJSON", data=export.geojson_bytes(shown, start, end),
        file_name=export.file_name(start, end), mime=export.MIME, on_click="ignore",
    )
    st.dataframe(data.table_frame(shown), hide_index=True)
    with st.expander(f"Unresolved mentions in this range ({counts.unresolved}), kept for review"):
        if counts.unresolved:
            st.dataframe(data.unresolved_frame(shown), hide_index=True)
        else:
            st.write("None.")


if __name__ == "__main__":
    main()
