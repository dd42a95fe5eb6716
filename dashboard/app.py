"""Event Atlas dashboard: ``streamlit run dashboard/app.py`` (or ``make run``).

Thin on purpose: ``main()`` wires widgets to the importable modules of the
``dashboard`` package, which hold all the logic.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repo root.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402
from streamlit_folium import st_folium  # noqa: E402

from dashboard import assets, cache, data, density, detail, export, mapview, review, safe, upload  # noqa: E402
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


def show_error(exc: Exception) -> None:
    """An error message from user input, shown literally (it may quote the input)."""
    st.error(safe.markdown_text(str(exc)), icon="⚠️")


def add_article(settings: Settings) -> None:
    """The sidebar panel: paste or upload an article, give its publication
    date, and map it with the pipeline. Only the store is written."""
    with st.sidebar:
        st.header("Add article")
        with st.form("add_article", clear_on_submit=True):
            pasted = st.text_area("Paste the article's text", height=180)
            uploaded = st.file_uploader("…or upload a .txt, .md or .html file",
                                        type=list(upload.UPLOAD_TYPES))
            published = st.date_input(
                "Publication date", value=None, min_value=date(1900, 1, 1), max_value=date.today(),
                format="YYYY-MM-DD", help="Required when the article's dates have no year.",
            )
            submitted = st.form_submit_button("Map this article")
        if not submitted:
            return
        if bool(pasted.strip()) == (uploaded is not None):
            st.warning("Paste the text or choose a file (one of the two).")
            return
        with st.status("Mapping the article…", expanded=True) as status:
            progress = st.progress(0.0, text="Checking the text")
            try:
                if uploaded is not None:
                    article = upload.article_from_upload(uploaded.getvalue(), uploaded.name, published=published,
                                                         max_bytes=settings.max_article_bytes)
                else:
                    article = upload.article_from_paste(pasted, published=published,
                                                        max_bytes=settings.max_article_bytes)
                progress.progress(0.3, text="Finding places and dates, writing the store")
                report = cache.pipeline(settings).ingest_articles([article], store=settings.store)
            except EventAtlasError as exc:
                status.update(label="Not added", state="error", expanded=False)
                refusal = exc
            else:
                refusal = None
                progress.progress(1.0, text="Done")
                status.update(label="Article mapped", state="complete")
        if refusal is not None:
            show_error(refusal)
            return
        st.success(safe.markdown_text(upload.summary(report)))


def event_detail(events, shown, settings: Settings) -> None:
    """Pick one event (shown, in the review queue, or not reviewed yet): all of
    it (evidence, source, claims side by side, review history), and its review."""
    if not len(shown):
        return
    st.subheader("Event details and review")
    row = review.pick_event(shown)
    if row is not None:
        st.html(detail.detail_html(row, detail.related_claims(events, row)))
        review_panel(row, shown, settings)


def review_panel(row, shown, settings: Settings) -> None:
    """Accept, reject, reopen, move (candidate or clicked point), fix the date."""
    review.panel(row, shown, settings.store, settings.reviewer,
                 assets.static_base_url(st.get_option("server.baseUrlPath")))


def timeline(events):
    """The date range on screen: (start, end), or (None, None) when undated."""
    span = data.date_span(events)
    return date_range(span) if span else (None, None)


def map_panel(shown, events=None, store=None) -> None:
    """The map, drawn as markers, clusters or a heat map (see dashboard.density)."""
    n_located = int(data.located(shown).sum()) if len(shown) else 0
    choice = st.radio(
        "Map", density.MODES, format_func=density.MODE_LABELS.get, horizontal=True, key="map_mode",
        help=f"Auto: a marker per event up to {density.AUTO_MARKERS_MAX:,} events, clusters above.",
    )
    note = density.mode_note(choice, n_located)
    if note:
        st.caption(note)
    version = (str(store), data.store_version(store)) if store is not None and events is not None else None
    st_folium(
        mapview.build_map(shown, assets.static_base_url(st.get_option("server.baseUrlPath")), mode=choice,
                          all_events=events, version=version),
        key="event_map", height=520, use_container_width=True, returned_objects=[],
    )


def downloads_panel(shown, start, end) -> None:
    st.download_button(
        "Download GeoJSON", data=export.geojson_bytes(shown, start, end),
        file_name=export.file_name(start, end), mime=export.MIME, on_click="ignore",
    )


def table_panel(shown) -> None:
    st.dataframe(data.table_frame(shown), hide_index=True)


def review_queue(shown, counts) -> None:
    """Unresolved mentions no one has decided on yet (placed or rejected in the review panel)."""
    queue = review.queue_frame(shown)
    with st.expander(f"Unresolved mentions in this range ({len(queue)}), kept for review"):
        if len(queue):
            st.dataframe(queue, hide_index=True)
            st.caption("To place or reject one: pick from the review queue in the review panel.")
        else:
            st.write("None.")
        if counts.unresolved > len(queue):
            st.caption(f"{counts.unresolved - len(queue)} more already decided by a reviewer.")


def main() -> None:
    st.set_page_config(page_title="Event Atlas", layout="wide")
    st.title("Event Atlas")
    cache.static_assets()
    if not st.get_option("server.enableStaticServing"):
        st.warning("server.enableStaticServing is off, so the map cannot load Leaflet: "
                   "run from the repository root, where .streamlit/config.toml turns it on.")
    settings = Settings.from_env()
    store = settings.store
    add_article(settings)
    try:
        events = cache.events_frame(store, data.store_version(store))
    except EventAtlasError as exc:
        show_error(exc)
        return
    if events.empty:
        st.info("No events yet: add an article in the sidebar, or run "
                "`python -m pipelines ingest geodata/examples` (or your own articles) to fill the store "
                f"{safe.markdown_text(store)}, then reload this page.")
        return
    start, end = timeline(events)
    shown = data.filter_dates(events, start, end)
    counts = data.counts(shown)

    st.markdown(f"**{data.shown_label(counts.total, len(events))}** · "
                f"{counts.resolved} on the map · {counts.unresolved} unresolved")
    map_panel(shown, events, settings.store)
    downloads_panel(shown, start, end)
    table_panel(shown)
    event_detail(events, shown, settings)
    review_queue(shown, counts)


if __name__ == "__main__":
    main()
