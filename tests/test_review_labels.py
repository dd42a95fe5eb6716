"""The review panel's event picker labels: no stray separators."""

from __future__ import annotations

import pandas as pd

from dashboard import review


def _row(**kw) -> pd.Series:
    base = {"date": "2023-05-22", "place": "Kozinka", "mention": "Kozinka", "source": "Raid report",
            "review_status": "", "lat": 50.4, "lon": 35.5, "resolved": True}
    return pd.Series({**base, **kw})


def test_unreviewed_event_label_starts_with_its_date():
    assert review.pick_label(_row()) == "2023-05-22 · Kozinka · Raid report"


def test_empty_fields_leave_no_separator_behind():
    assert review.pick_label(_row(date="", source=None)) == "Kozinka"
    assert review.pick_label(_row(source="")) == "2023-05-22 · Kozinka"
    assert review.pick_label(_row(place="", mention="")) == "2023-05-22 · (no place) · Raid report"
    for label in (review.pick_label(_row(date="")), review.pick_label(_row(source=" "))):
        assert not label.startswith("·") and not label.endswith("·") and "· ·" not in label


def test_reviewed_event_keeps_its_mark():
    assert review.pick_label(_row(review_status="accepted")) == "✓ 2023-05-22 · Kozinka · Raid report"
    assert review.pick_label(_row(review_status="rejected", date="")).startswith("✗ Kozinka")


def test_unresolved_and_long_labels():
    assert review.pick_label(_row(lat=None, lon=None, resolved=False)).endswith(" (unresolved)")
    long = review.pick_label(_row(source="x" * 200))
    assert len(long) <= 90 and long.endswith("…")
