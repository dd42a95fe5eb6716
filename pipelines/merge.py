"""How a re-ingest meets what is already stored: pure frame → frame transforms.

Re-ingesting an article re-runs the analysis of that article, so its
pipeline-made events are brought up to date (a place the online geocoder
could not reach last time is resolved now, the unresolved row it replaces
goes). Three rules keep the analyst's record safe:

* a reviewed event (any ``review_status``) is never removed or overwritten;
  the re-ingested event with the same ``event_id`` is skipped;
* an event already stored with the same ``event_id`` is kept as it is
  (its ``ingested_at`` included), so the same text adds nothing;
* a resolved event is not replaced by an unresolved reading of the same
  mention (a run without the online geocoder does not undo one with it).

Articles not in the batch are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import geopandas as gpd
import pandas as pd

from .schema import conform

__all__ = ["MergeResult", "WriteCounts", "merge_reingest", "merge_append"]


@dataclass(frozen=True)
class MergeResult:
    """The merged frame, and the same change as a diff (``new_rows`` to insert,
    ``removed_ids`` to delete) for stores that apply it row by row."""

    frame: gpd.GeoDataFrame
    added: int
    already_stored: int
    superseded: int
    reviewed_kept: int
    new_rows: gpd.GeoDataFrame | None = None
    removed_ids: tuple[str, ...] = ()
    #: Events in the whole store after the write, when ``frame`` holds only
    #: the affected part (a database reads no more than it must).
    total: int | None = None

    @property
    def stored_total(self) -> int:
        return len(self.frame) if self.total is None else self.total

    @property
    def changed(self) -> bool:
        return self.added > 0 or self.superseded > 0


@dataclass
class WriteCounts:
    """What ingests report about their writes, summed over one or more batches."""

    added: int = 0
    already_stored: int = 0
    unresolved: int = 0
    superseded: int = 0
    reviewed_kept: int = 0
    total_in_store: int = 0

    def count_write(self, written: MergeResult) -> None:
        self.added += written.added
        self.already_stored += written.already_stored
        self.superseded += written.superseded
        self.reviewed_kept += written.reviewed_kept
        self.total_in_store = written.stored_total


def _mention_keys(mentions: Iterable[str]) -> set[str]:
    keys: set[str] = set()
    for joined in mentions:
        keys.update(" ".join(part.split()).casefold() for part in str(joined).split(" | "))
    return keys


def _plain(frame: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))


def merge_append(existing: gpd.GeoDataFrame, fresh: gpd.GeoDataFrame) -> MergeResult:
    """Add the events whose ``event_id`` is not stored yet; touch nothing else."""
    new = fresh.loc[~fresh["event_id"].isin(set(existing["event_id"]))].drop_duplicates("event_id")
    if new.empty:
        return MergeResult(existing, 0, len(fresh), 0, 0, new)
    frame = conform(pd.concat([_plain(existing), _plain(new)], ignore_index=True))
    return MergeResult(frame, len(new), len(fresh) - len(new), 0, 0, new)


def merge_reingest(existing: gpd.GeoDataFrame, fresh: gpd.GeoDataFrame,
                   article_ids: Iterable[str]) -> MergeResult:
    """Bring the stored events of ``article_ids`` up to date with ``fresh``.

    ``fresh`` holds every event the pipeline made now for those articles
    (an article with no events in it still counts: its unreviewed events go).
    """
    articles = set(article_ids)
    fresh = fresh.drop_duplicates("event_id")
    in_batch = existing["article_id"].isin(articles)
    reviewed = existing["review_status"] != ""
    stored_ids = set(existing["event_id"])
    fresh_ids = set(fresh["event_id"])

    # Stored unreviewed events of these articles that this run no longer makes.
    stale = in_batch & ~reviewed & ~existing["event_id"].isin(fresh_ids)
    # ... except a resolved one whose mention this run left unresolved.
    unresolved_now = fresh.loc[~fresh["resolved"]]
    keep_resolved = pd.Series(False, index=existing.index)
    skip_fresh: set[str] = set()
    if not unresolved_now.empty:
        for article_id, group in unresolved_now.groupby("article_id"):
            held = existing.loc[stale & existing["resolved"] & (existing["article_id"] == article_id)]
            if held.empty:
                continue
            held_keys = {row.event_id: _mention_keys([row.mention]) for row in held.itertuples()}
            for row in group.itertuples():
                keys = _mention_keys([row.mention])
                owners = [eid for eid, known in held_keys.items() if keys & known]
                if owners:
                    skip_fresh.add(row.event_id)
                    keep_resolved |= existing["event_id"].isin(owners)
    superseded = stale & ~keep_resolved

    new = fresh.loc[~fresh["event_id"].isin(stored_ids) & ~fresh["event_id"].isin(skip_fresh)]
    reviewed_kept = int((in_batch & reviewed).sum())
    already = len(fresh) - len(new)
    if new.empty and not superseded.any():
        return MergeResult(existing, 0, already, 0, reviewed_kept, new)
    frame = conform(pd.concat([_plain(existing.loc[~superseded]), _plain(new)], ignore_index=True))
    return MergeResult(frame, len(new), already, int(superseded.sum()), reviewed_kept, new,
                       tuple(existing.loc[superseded, "event_id"]))
