"""``python -m pipelines``: ingest, export, geocode, events, gazetteer import.

User mistakes print one line on stderr (``error: …``) and exit 2; the store
is left as it was.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from .config import Settings
from .errors import EventAtlasError, InputError


def _iso_date(value: str) -> date:
    from .dates import parse_iso_date

    try:
        return parse_iso_date(value)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return number


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not the usage block
        self.exit(2, f"error: {message} (see python -m pipelines {self.prog.split()[-1]} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m pipelines", description="Event Atlas: news articles → dated, geolocated events.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ingest = sub.add_parser("ingest", help="add the events of articles, web pages and feeds to the store")
    ingest.add_argument("paths", nargs="+", metavar="PATH_OR_URL",
                        help="UTF-8 .txt/.md file, saved .html page, RSS/Atom feed file, a directory of them, "
                             "or an http(s) URL of a page or feed (recognised by content)")
    ingest.add_argument("--published", type=_iso_date,
                        help="publication date YYYY-MM-DD (resolves 'yesterday', year-less dates); "
                             "overrides the date a page gives")
    ingest.add_argument("--source", help="source name (default: the article's title or file name)")
    ingest.add_argument("--store", help="store path (default: $EVENT_ATLAS_STORE or geodata/events.gpkg)")
    cluster = ingest.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=_positive_int, metavar="N",
                         help="run on a local Dask cluster of N worker processes (1 thread each)")
    cluster.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")

    export = sub.add_parser("export", help="write the stored events that match the filters (the dashboard's)")
    export.add_argument("--store")
    export.add_argument("--start", type=_iso_date)
    export.add_argument("--end", type=_iso_date)
    export.add_argument("--format", required=True, choices=("geojson", "csv", "gpkg", "geoparquet"))
    export.add_argument("-o", "--output", required=True, type=Path,
                        help="a file; for geoparquet a folder (new, empty, or an earlier geoparquet export)")
    export.add_argument("--type", action="append", default=[], metavar="TYPE", dest="types",
                        help="event_type (repeat for several; 'none' for untyped)")
    export.add_argument("--actor", action="append", default=[], metavar="NAME", dest="actors",
                        help="an actor named in the event (repeat for several)")
    export.add_argument("--source", action="append", default=[], metavar="NAME", dest="sources",
                        help="the event's source (repeat for several)")
    export.add_argument("--precision", action="append", default=[], dest="precisions",
                        choices=("point", "district", "region", "country", "unresolved"),
                        help="geo_precision (repeat for several; 'unresolved' for mentions without a place)")
    export.add_argument("--status", action="append", default=[], dest="statuses",
                        choices=("unreviewed", "accepted", "rejected", "corrected"),
                        help="review status (repeat for several)")
    export.add_argument("--text", default="", help="words that must all occur in the place, mention or sentence")
    export.add_argument("--bbox", metavar="W,S,E,N",
                        help="only located events inside west,south,east,north in degrees "
                             "(write --bbox=-10,40,5,50 when west is negative)")

    geocode = sub.add_parser("geocode", help="look names up in the offline gazetteer")
    geocode.add_argument("names", nargs="+", metavar="NAME")
    geocode.add_argument("--near", help="context that biases the choice, e.g. 'Belgorod Oblast'")
    geocode.add_argument("--candidates", type=int, default=3, help="how many alternatives to show")

    events = sub.add_parser("events", help="show the stored events as a table")
    events.add_argument("--store")
    events.add_argument("--limit", type=int, default=0, help="show at most this many rows (0: all)")
    events.add_argument("--unresolved", action="store_true", help="only the review queue: mentions not located")
    events.add_argument("--status", choices=("unreviewed", "accepted", "rejected", "corrected"),
                        help="only events with this review status")

    review = sub.add_parser("review", help="accept, reject, move or re-date one stored event")
    review.add_argument("event_id", metavar="EVENT_ID", help="the id (or its first 8 characters, as `events` shows)")
    review.add_argument("--store")
    verdict = review.add_mutually_exclusive_group()
    verdict.add_argument("--accept", dest="verdict", action="store_const", const="accepted")
    verdict.add_argument("--reject", dest="verdict", action="store_const", const="rejected")
    verdict.add_argument("--reopen", dest="verdict", action="store_const", const="",
                         help="clear the review: the next re-ingest may update the event again")
    where = review.add_mutually_exclusive_group()
    where.add_argument("--candidate", type=int, metavar="N",
                       help="move to alternative N of the event's candidates (1 = first, as the dashboard numbers them; --show lists them)")
    where.add_argument("--move", metavar="LAT,LON", help="move to this point, e.g. 50.43,35.72")
    review.add_argument("--name", help="place name for --move (default: keep the current one)")
    review.add_argument("--date", type=_iso_date, help="corrected date YYYY-MM-DD")
    review.add_argument("--date-end", type=_iso_date, help="last day when the event spans several")
    review.add_argument("--by", help="reviewer (default: $EVENT_ATLAS_REVIEWER or the login name)")
    review.add_argument("--note", default="", help="why; kept in the review history")
    review.add_argument("--show", action="store_true", help="print the event, its candidates and history; change nothing")

    extract = sub.add_parser("extract", help="place mentions of JSON-lines documents, as JSON lines")
    extract.add_argument("--jsonl", required=True, type=Path, metavar="IN.jsonl",
                         help='lines {"id", "text", "published"?}; "-" reads stdin')

    evaluate = sub.add_parser("evaluate", help="score the geoparser (or --pred) against a gold corpus")
    evaluate.add_argument("gold", type=Path, metavar="GOLD.jsonl")
    evaluate.add_argument("--pred", type=Path, metavar="PRED.jsonl", help="score these predictions instead of running the geoparser")
    evaluate.add_argument("--kinds", default="place,country,qualifier",
                          help="mention kinds scored as toponyms (default place,country,qualifier — a place named inside an "
                               "organisation or facility name; add demonym for corpora that annotate 'Turkish' as Turkey)")
    evaluate.add_argument("--errors", type=Path, metavar="OUT.jsonl", help="write every miss and wrong resolution here")

    importer = sub.add_parser("import", help="add the events of a GeoJSON file (an export or hand-made) to the store")
    importer.add_argument("file", type=Path, metavar="FILE.geojson")
    importer.add_argument("--store", help="store path (default: $EVENT_ATLAS_STORE or geodata/events.gpkg)")

    gaz = sub.add_parser("gazetteer", help="manage the gazetteer")
    gaz_sub = gaz.add_subparsers(dest="gazetteer_command", required=True, parser_class=_Parser)
    gimport = gaz_sub.add_parser("import", help="import a GeoNames dump (e.g. RU.txt, 19 tab-separated columns)")
    gimport.add_argument("file", type=Path)
    gaz_sub.add_parser("build", help="build the index now (otherwise built on first use)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        handler = {
            "ingest": cmd_ingest,
            "export": cmd_export,
            "geocode": cmd_geocode,
            "events": cmd_events,
            "gazetteer": cmd_gazetteer,
            "extract": cmd_extract,
            "evaluate": cmd_evaluate,
            "import": cmd_import,
            "review": cmd_review,
        }[args.command]
        return handler(args, settings)
    except EventAtlasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # bad EVENT_ATLAS_* setting
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the store is unchanged unless a write had finished", file=sys.stderr)
        return 130


def _store(args, settings: Settings) -> str:
    return args.store or settings.store


def _store_label(store: str) -> str:
    """How the store is named in messages: a full path, or the URL without its password."""
    from .store import is_database_url, open_store

    return open_store(store).location if is_database_url(store) else str(Path(store).resolve())


def _require_store(store: str) -> None:
    """A file store must exist before it is read (a database is created on first use)."""
    from .store import is_database_url

    if not is_database_url(store) and not Path(store).exists():
        raise InputError(f"{store}: no event store yet; run python -m pipelines ingest first")


def cmd_ingest(args, settings: Settings) -> int:
    """Exit 0 when every item was ingested, 1 when some feed items failed (the
    others are stored; each failure has a line on stderr), 2 for a user
    mistake (nothing written)."""
    from .sources.fetch import Fetcher
    from .sources.ingest import LoadOptions, SourceIngest, plan_inputs
    from .sources.progress import Progress
    from .sources.seen import SeenRegistry

    store = _store(args, settings)
    options = LoadOptions(published=args.published, source=args.source)
    registry = SeenRegistry(settings.seen_items_path, store)
    fetcher = Fetcher.from_settings(settings)
    try:
        plan = plan_inputs(args.paths, fetcher=fetcher, options=options, max_bytes=settings.max_article_bytes,
                           registry=registry)
        progress = Progress(len(plan.items), interval=settings.progress_interval) if len(plan.items) > 1 else None
        ingest = SourceIngest(store, batch_size=settings.ingest_batch_size, registry=registry)
        if args.workers or args.scheduler:
            from .distributed import DaskExecutor

            with DaskExecutor(settings, options, workers=args.workers, scheduler=args.scheduler) as executor:
                report = ingest.run(plan, executor, progress)
        else:
            from .pipeline import Pipeline
            from .sources.ingest import LocalExecutor

            report = ingest.run(plan, LocalExecutor(Pipeline(settings), fetcher, options), progress)
    finally:
        fetcher.close()
    for note in report.notes:
        print(f"date: {note}")
    print(
        f"{report.added} events added ({report.already_stored} already stored) from {report.articles} "
        f"article{'s' if report.articles != 1 else ''}; {report.unresolved} place mention"
        f"{'s' if report.unresolved != 1 else ''} unresolved (kept for review); "
        f"store: {_store_label(store)} ({report.total_in_store} events)"
    )
    if report.superseded or report.reviewed_kept:
        print(f"re-ingest: {report.superseded} earlier unreviewed events replaced by this run's; "
              f"{report.reviewed_kept} reviewed events kept as the analyst left them")
    for feed in report.feeds:
        repeated = f"{feed.repeated_links} linking a page fetched in this run, " if feed.repeated_links else ""
        print(f"feed {feed.name}: {feed.items} items; {feed.queued} new, {feed.already_seen} seen before (skipped), "
              f"{repeated}{len(feed.broken)} unreadable in the feed")
    if report.repeated_text:
        print(f"{report.repeated_text} new items repeat the text of an item seen before (nothing new stored)")
    if report.items > 1:
        rate = report.items / report.seconds if report.seconds > 0 else 0.0
        where = f"Dask, {args.workers} workers" if args.workers else (f"Dask at {args.scheduler}" if args.scheduler
                                                                      else "1 process")
        print(f"{report.items} items in {report.seconds:.1f} s ({rate:.1f} items/s, {where}); "
              f"{report.articles} ingested, {len(report.failed)} failed, {report.writes} store writes")
    for line in report.failed:
        print(f"failed: {line}", file=sys.stderr)
    if report.failed:
        print(f"{len(report.failed)} item{'s' if len(report.failed) != 1 else ''} failed and "
              f"{'were' if len(report.failed) != 1 else 'was'} not stored (the others were); they are tried "
              "again on the next run", file=sys.stderr)
        return 1
    return 0


def cmd_export(args, settings: Settings) -> int:
    """The dashboard's filters (:func:`pipelines.filters.apply_filters`); the
    dates and the bbox are pushed into the store's query (SQL for PostGIS)."""
    from .exporters import write_export
    from .filters import EventFilter, apply_filters, parse_bbox
    from .store import read_events

    if args.start and args.end and args.start > args.end:
        raise InputError(f"--start {args.start} is after --end {args.end}")
    wanted = EventFilter(start=args.start, end=args.end, types=tuple(args.types), actors=tuple(args.actors),
                         sources=tuple(args.sources), precisions=tuple(args.precisions),
                         statuses=tuple(args.statuses), text=args.text,
                         bbox=parse_bbox(args.bbox) if args.bbox else None)
    store = _store(args, settings)
    _require_store(store)
    events = apply_filters(read_events(store, start=args.start, end=args.end, bbox=wanted.bbox), wanted)
    metadata = {
        "exported_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "store": _store_label(store),
        "filters": wanted.describe(),
        "count": len(events),
        "query": wanted.cli_command(),
    }
    write_export(events, args.format, args.output, metadata=metadata)
    print(f"{len(events)} events written to {args.output} ({args.format})")
    return 0


def cmd_import(args, settings: Settings) -> int:
    from .importer import import_geojson

    store = _store(args, settings)
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    report = import_geojson(args.file, store, max_bytes=settings.max_article_bytes, imported_at=now)
    print(f"imported {report.imported} events, already stored {report.already_stored} (skipped) from {args.file}; "
          f"store: {_store_label(store)} ({report.total_in_store} events)")
    if report.already_stored_ids:
        shown = report.already_stored_ids[:10]
        more = len(report.already_stored_ids) - len(shown)
        print("already stored: " + ", ".join(shown) + (f" … and {more} more" if more else ""))
    return 0


def cmd_geocode(args, settings: Settings) -> int:
    from .gazetteer import open_gazetteer

    geocoder = open_gazetteer(settings)
    context = geocoder.context_for(args.near) if args.near else None
    if args.near and context is not None and context.empty:
        print(f"warning: --near {args.near!r} is not a known place; no bias applied", file=sys.stderr)
    for name in args.names:
        locations = geocoder.geocode(name, exactly_one=False, near=context) or []
        best = locations[0].raw if locations else None
        record = {"query": name, "found": best is not None}
        if best:
            record.update({k: best[k] for k in ("name", "lat", "lon", "feature_class", "feature_code", "admin1",
                                                "admin2", "country", "country_code", "geonameid", "precision",
                                                "score", "confidence", "source")})
        record["candidates"] = [
            {k: loc.raw[k] for k in ("name", "lat", "lon", "feature_code", "admin1", "country_code", "score", "source")}
            for loc in locations[1 : 1 + args.candidates]
        ]
        print(json.dumps(record, ensure_ascii=False))
    return 0


def cmd_events(args, settings: Settings) -> int:
    from .store import read_events

    store = _store(args, settings)
    _require_store(store)
    events = read_events(store).sort_values(["date", "place"])
    if args.unresolved:
        events = events.loc[~events["resolved"]]
    if args.status:
        events = events.loc[events["review_status"] == ("" if args.status == "unreviewed" else args.status)]
    if args.limit:
        events = events.head(args.limit)
    print(format_table(events))
    resolved = int(events["resolved"].sum())
    print(f"\n{len(events)} events ({resolved} located, {len(events) - resolved} unresolved) in {_store_label(store)}")
    return 0


def _actor_list(value: str) -> str:
    """'["A", "B", "C"]' → 'A, B +1' (a table cell, not the whole list)."""
    try:
        names = json.loads(value or "[]")
    except json.JSONDecodeError:
        return ""
    shown = ", ".join(names[:2])
    return shown + (f" +{len(names) - 2}" if len(names) > 2 else "")


def format_table(events) -> str:
    """A fixed-width table that fits a terminal: long sentences are cut."""
    import pandas as pd

    if len(events) == 0:
        return "(no events)"
    view = pd.DataFrame({
        "id": events["event_id"].str.slice(0, 8),
        "date": events["date"] + events["date_precision"].map({"day": "", "month": " (month)", "year": " (year)"}),
        "place": events["place"].where(events["resolved"], "UNRESOLVED"),
        "mention": events["mention"],
        "precision": events["geo_precision"],
        "lat": events["lat"].round(4),
        "lon": events["lon"].round(4),
        "country": events["country_code"],
        "type": events["event_type"],
        "actors": events["actors"].map(_actor_list),
        "sentence": events["sentence"].str.slice(0, 60) + events["sentence"].str.len().gt(60).map({True: "…", False: ""}),
        "source": events["source"].str.slice(0, 30),
        "review": events["review_status"],
    })
    return view.to_string(index=False, na_rep="")


def _point(value: str) -> tuple[float, float]:
    lat, sep, lon = value.partition(",")
    try:
        if not sep:
            raise ValueError
        return float(lat), float(lon)
    except ValueError:
        raise InputError(f"--move {value!r}: give LAT,LON in decimal degrees, e.g. 50.43,35.72") from None


def _candidate_index(number: int | None) -> int | None:
    """--candidate counts from 1, as the dashboard does; the review API from 0."""
    if number is None:
        return None
    if number < 1:
        raise InputError(f"--candidate {number}: candidates are numbered from 1")
    return number - 1


def cmd_review(args, settings: Settings) -> int:
    import getpass

    from .review import ReviewAction, find_event, review_event
    from .store import read_events

    store = _store(args, settings)
    _require_store(store)
    if args.show:
        events = read_events(store)
        row = events.loc[find_event(events, args.event_id)]
        print(json.dumps({k: (None if k == "geometry" else row[k]) for k in events.columns if k != "geometry"},
                         ensure_ascii=False, indent=2, default=str))
        return 0
    action = ReviewAction(
        verdict=args.verdict, candidate=_candidate_index(args.candidate),
        point=_point(args.move) if args.move else None, place=args.name,
        date=args.date, date_end=args.date_end, note=args.note,
    )
    if action.verdict is None and not action.changes_event and action.place is None:
        raise InputError("nothing to do: give --accept, --reject, --reopen, --candidate, --move, --name or --date")
    by = args.by or settings.reviewer or getpass.getuser()
    event = review_event(store, args.event_id, action, by=by)
    where = f"{event['place']} ({event['lat']:.4f}, {event['lon']:.4f})" if event["resolved"] else "unresolved"
    print(f"{event['event_id']}: {event['review_status']} by {event['reviewed_by']} at {event['reviewed_at']}; "
          f"{where}, {event['date']}" + (f"..{event['date_end']}" if event["date_end"] != event["date"] else ""))
    return 0


def cmd_gazetteer(args, settings: Settings) -> int:
    from .gazetteer.build import build_index
    from .gazetteer.dump import import_geonames_dump
    from .gazetteer import USER_PLACES

    if args.gazetteer_command == "build":
        stats = build_index(settings.gazetteer_path, settings.overlay_path)
        print(f"gazetteer index built: {stats['places']} places in {stats['seconds']} s at {settings.gazetteer_path}")
        return 0
    from .gazetteer.build import ensure_index

    main_index = ensure_index(settings.gazetteer_path, settings.overlay_path)
    result = import_geonames_dump(args.file, settings.cache_dir / USER_PLACES, main_index)
    print(f"imported {result.places} places ({result.skipped} rows skipped) from {args.file} into {settings.cache_dir / USER_PLACES}")
    return 0


def _read_lines(path: Path) -> list[str]:
    # split on "\n" only: str.splitlines() would also split inside JSON strings at U+2028 etc.
    if str(path) == "-":
        return sys.stdin.read().split("\n")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _check_line_sizes(lines: list[str], source: str, max_bytes: int) -> None:
    """Each JSON line is one article: the article size limit applies to it."""
    for number, line in enumerate(lines, 1):
        if len(line) * 4 > max_bytes and (size := len(line.encode("utf-8"))) > max_bytes:
            raise InputError(f"{source}:{number}: {size:,} bytes is over the {max_bytes:,}-byte limit "
                             "(EVENT_ATLAS_MAX_ARTICLE_BYTES)")


def cmd_extract(args, settings: Settings) -> int:
    from .extract import extract_document, parse_documents
    from .gazetteer import open_gazetteer
    from .geoparse import Geoparser

    lines = _read_lines(args.jsonl)
    _check_line_sizes(lines, str(args.jsonl), settings.max_article_bytes)
    documents = list(parse_documents(lines, str(args.jsonl)))  # all checked before output
    geoparser = Geoparser(open_gazetteer(settings))  # loaded once for every document
    out = sys.stdout
    for doc in documents:
        out.write(json.dumps(extract_document(geoparser, doc), ensure_ascii=False) + "\n")
    return 0


def cmd_evaluate(args, settings: Settings) -> int:
    import time

    from .evaluation import ACCURACY_KM, Scores, score_document
    from .extract import extract_document, parse_documents

    gold_lines = _read_lines(args.gold)
    gold_docs = []
    for number, line in enumerate(gold_lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            for toponym in obj["toponyms"]:  # every field the scores read
                int(toponym["start"]), int(toponym["end"]), float(toponym["lat"]), float(toponym["lon"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{args.gold}:{number}: not a gold document with toponyms ({exc})") from None
        gold_docs.append(obj)

    started = time.perf_counter()
    if args.pred:
        predictions = {}
        for number, line in enumerate(_read_lines(args.pred), 1):
            if line.strip():
                try:
                    record = json.loads(line)
                    predictions[record["id"]] = record["mentions"]
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise InputError(f"{args.pred}:{number}: not an extract record ({exc})") from None
    else:
        from .gazetteer import open_gazetteer
        from .geoparse import Geoparser

        geoparser = Geoparser(open_gazetteer(settings))
        started = time.perf_counter()  # documents per second: parsing, not loading
        documents = list(parse_documents(gold_lines, str(args.gold)))
        predictions = {doc.id: extract_document(geoparser, doc)["mentions"] for doc in documents}
    elapsed = time.perf_counter() - started

    kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}
    scores = Scores()
    errors = []
    for doc in gold_docs:
        predicted = [p for p in predictions.get(doc["id"], []) if p.get("kind", "place") in kinds]
        pairs = score_document(doc["toponyms"], predicted, scores)
        if args.errors:
            matched_gold = {id(p.gold) for p in pairs}
            matched_pred = {id(p.predicted) for p in pairs}
            errors += [{"id": doc["id"], "type": "missed", "gold": g} for g in doc["toponyms"] if id(g) not in matched_gold]
            errors += [{"id": doc["id"], "type": "spurious", "predicted": p} for p in predicted if id(p) not in matched_pred]
            errors += [{"id": doc["id"], "type": "wrong", "km": round(p.error_km, 1) if p.error_km != float("inf") else None,
                        "gold": p.gold, "predicted": {k: v for k, v in p.predicted.items() if k != "candidates"}}
                       for p in pairs if p.error_km > ACCURACY_KM]
    if args.errors:
        with open(args.errors, "w", encoding="utf-8") as fh:
            for e in errors:
                fh.write(json.dumps(e, ensure_ascii=False) + "\n")

    s = scores
    print(f"{args.gold.name}: {s.documents} documents, {s.gold} gold toponyms, {s.predicted} predicted, {s.matched} matched")
    print(f"recognition   precision {s.precision:.3f}  recall {s.recall:.3f}  F1 {s.f1:.3f}")
    print(f"resolution    accuracy@161km {s.accuracy_161:.3f}  median error {s.median_error_km:.1f} km")
    print(f"end to end    {s.end_to_end:.3f} of gold toponyms matched and within 161 km")
    if not args.pred:
        print(f"speed         {s.documents / elapsed:.1f} documents/s ({elapsed:.2f} s)")
    return 0
