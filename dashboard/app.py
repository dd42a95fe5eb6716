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

from dashboard import assets, cache, charts, data, density, detail, export, filters, mapview, review, safe, upload  # noqa: E402
from dashboard import timeline as playback  # noqa: E402
from pipelines.config import Settings  # noqa: E402
from pipelines.errors import EventAtlasError  # noqa: E402


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


def event_detail(shown, settings: Settings, version) -> None:
    """Pick one event (shown, in the review queue, or not reviewed yet): all of
    it (evidence, source, claims side by side, review history), and its review.
    The claims come from a store read of the event's own dates (anywhere, not
    only in the window on screen)."""
    if not len(shown):
        return
    st.subheader("Event details and review")
    row = review.pick_event(shown)
    if row is not None:
        context = cache.related_events(settings.store, version, *data.event_dates(row))
        st.html(detail.detail_html(row, detail.related_claims(context, row)))
        review_panel(row, shown, settings)


def review_panel(row, shown, settings: Settings) -> None:
    """Accept, reject, reopen, move (candidate or clicked point), fix the date."""
    review.panel(row, shown, settings.store, settings.reviewer,
                 assets.static_base_url(st.get_option("server.baseUrlPath")))


def filters_panel(summary, box) -> filters.EventFilter:
    """The sidebar's filters (seeded once from the URL), offering the store
    summary's values; no dates, the area included."""
    filters.seed_from_url()
    return filters.widgets(summary, container=box)


def timeline(summary, view) -> filters.ViewState:
    """The range slider over the whole store's span, the playback day and the
    strip of the store's event intervals: what is on screen, as a ViewState."""
    span = data.summary_span(summary)
    extra = {**playback.playback_state(), "map_mode": filters.map_mode()}
    if span is None:
        return filters.ViewState(**view.as_kwargs(), **extra)
    start, end, day = playback.controls(span.start, span.end)
    state = filters.ViewState(**{**view.as_kwargs(), "start": start, "end": end, "day": day}, **extra)
    if span.start < span.end:
        strip = charts.strip_chart(data.summary_intervals(summary), span.start, span.end, state.shown_range())
        st.altair_chart(strip, width="stretch", height=charts.frame_height(strip))
    st.caption(playback.caption(state))
    return state


def map_panel(shown, n_located: int, events, version) -> None:
    """The map of the ``n_located`` events of ``shown`` with a location, drawn
    as markers, clusters or a heat map (see dashboard.density). ``events`` is
    the frame read, a superset of ``shown`` (the map's base and the popup
    records of clusters, written once per ``version``: the store, its version
    and the window read)."""
    choice = st.radio(
        "Map", density.MODES, format_func=density.MODE_LABELS.get, horizontal=True, key="map_mode",
        help=f"Auto: a marker per event up to {density.AUTO_MARKERS_MAX:,} events in the timeline's span, "
             "clusters above (so that filtering keeps the map as it is).",
    )
    note = density.mode_note(choice, n_located)
    if note:
        st.caption(note)
    # The base map holds the whole window read and stays while filters change;
    # only the selection of what is shown is sent again (mapview.filtered_map).
    base, selection = mapview.filtered_map(events, shown, assets.static_base_url(st.get_option("server.baseUrlPath")),
                                           mode=choice, version=version)
    st_folium(base, feature_group_to_add=selection, key="event_map", height=520, use_container_width=True,
              returned_objects=[])


def downloads_panel(shown, state, store) -> None:
    """Exactly the events on screen, with their provenance; built when pressed."""
    kw = {"filters": state.shown_filter(), "store": data.store_label(store), "url_query": filters.to_query(state)}
    start, end = state.shown_range()
    cols = st.columns(3)
    cols[0].download_button("Download GeoJSON", data=lambda: export.geojson_bytes(shown, **kw),
                            file_name=export.file_name(start, end), mime=export.MIME, on_click="ignore")
    cols[1].download_button("Download CSV", data=lambda: export.csv_bytes(shown, **kw),
                            file_name=export.file_name(start, end, "csv"), mime=export.CSV_MIME, on_click="ignore")
    cols[2].download_button("Download GeoPackage", data=lambda: export.gpkg_bytes(shown, **kw),
                            file_name=export.file_name(start, end, "gpkg"), mime=export.GPKG_MIME,
                            on_click="ignore", disabled=not len(shown))


def charts_panel(filtered, shown, state, per_day_counts=None) -> None:
    """Events per day (click a bar: that day) and the top places on screen."""
    left, right = st.columns([3, 2])
    per_day = charts.per_day_chart(filtered, state.shown_range(), counts=per_day_counts)
    left.altair_chart(per_day, width="stretch", height=charts.frame_height(per_day), key=playback.CHART, on_select=playback.narrow_to_clicked_day,
                      selection_mode=charts.DAY_SELECTION)
    right.altair_chart(charts.top_places_chart(shown), width="stretch")


def page_picker(n_rows: int, label: str, key: str) -> int:
    """Which page of a long table to show: a number box when there is more
    than one page, and the "rows a–b of N" caption."""
    pages = density.page_count(n_rows)
    page = st.number_input(label, min_value=1, max_value=pages, value=1, step=1, key=key) if pages > 1 else 1
    st.caption(density.page_label(n_rows, page))
    return page


def table_panel(shown) -> None:
    """The events table, a page at a time (100,000 rows in one grid would be
    tens of MB sent to the browser on every rerun)."""
    with st.container(key="events_table"):
        page = page_picker(len(shown), "Table page", "table_page")
        st.dataframe(data.table_page(shown, page, density.PAGE_SIZE), hide_index=True)


def review_queue(shown, counts) -> None:
    """Unresolved mentions no one has decided on yet (placed or rejected in the review panel)."""
    waiting = shown.loc[review.queue_mask(shown)] if len(shown) else shown
    with st.expander(f"Unresolved mentions in this range ({len(waiting)}), kept for review"):
        if len(waiting):
            page = page_picker(len(waiting), "Queue page", "queue_page")
            st.dataframe(review.queue_frame(waiting, page), hide_index=True)
            st.caption("To place or reject one: pick from the review queue in the review panel.")
        else:
            st.write("None.")
        if counts.unresolved > len(waiting):
            st.caption(f"{counts.unresolved - len(waiting)} more already decided by a reviewer.")


def main() -> None:
    st.set_page_config(page_title="Event Atlas", layout="wide")
    st.title("Event Atlas")
    cache.static_assets()
    if not st.get_option("server.enableStaticServing"):
        st.warning("server.enableStaticServing is off, so the map cannot load Leaflet: "
                   "run from the repository root, where .streamlit/config.toml turns it on.")
    settings = Settings.from_env()
    store = settings.store
    filter_box = st.sidebar.container()
    add_article(settings)
    try:
        version = data.store_version(store)
        summary = cache.store_summary(store, version)
    except EventAtlasError as exc:
        show_error(exc)
        return
    if not summary.count:
        st.info("No events yet: add an article in the sidebar, or run "
                "`python -m pipelines ingest geodata/examples` (or your own articles) to fill the store "
                f"{safe.markdown_text(store)}, then reload this page.")
        return
    view = filters_panel(summary, filter_box)
    playback.playback_controls(data.summary_span(summary))
    st.fragment(screen, run_every=playback.interval())(summary, view, settings, version)


def screen(summary, view, settings: Settings, version) -> None:
    """Everything that follows the timeline. While playing, only this reruns.
    The store is read for the slider's range and the area (the query's
    window); playback moves the day inside it, so its steps read nothing."""
    state = timeline(summary, view)
    window = (state.start, state.end, view.bbox)
    try:
        events = cache.events_frame(settings.store, version, *window)
    except EventAtlasError as exc:
        show_error(exc)
        return
    filtered = cache.filtered_frame(settings.store, version, *window, view.base())
    shown = filters.apply_filters(filtered, state)
    counts = data.counts(shown)

    st.markdown(f"**{data.shown_label(counts.total, summary.count)}** · "
                f"{counts.resolved} on the map · {counts.unresolved} unresolved")
    read = (str(settings.store), version, *window)  # names ``events``: the store, its version, the window
    if not (playback.is_playing() and playback.playing_map(
            shown, filters.apply_filters(filtered, state.filter()),
            assets.static_base_url(st.get_option("server.baseUrlPath")),
            events=events, version=read, shown_range=state.shown_range())):
        # The map's base holds the timeline's whole span (the same read as the
        # default window), so moving the slider or a filter only re-picks events
        # in the browser; a narrowed window is read as well for the other panels.
        span = data.summary_span(summary)
        full = window if span is None else (span.start, span.end, view.bbox)
        try:
            map_events = events if full == window else cache.events_frame(settings.store, version, *full)
        except EventAtlasError as exc:
            show_error(exc)
            return
        map_panel(shown, counts.resolved, map_events, (str(settings.store), version, *full))
    charts_panel(filtered, shown, state, cache.per_day_counts(settings.store, version, *window, view.base()))
    downloads_panel(shown, state, settings.store)
    table_panel(shown)
    event_detail(shown, settings, version)
    review_queue(shown, counts)
    filters.write_url(state)
    playback.stop_timer_when_done()


if __name__ == "__main__":
    main()
