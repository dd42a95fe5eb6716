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


def test_first_rows_are_the_head_of_the_table_order():
    import random

    from dashboard.data import table_order

    rng = random.Random(2)
    rows = pd.DataFrame({
        "event_id": [f"e{i}" for i in range(2000)],
        "date": [f"2023-05-{rng.randrange(1, 29):02d}" for _ in range(2000)],
        "date_end": [f"2023-06-{rng.randrange(1, 3):02d}" for _ in range(2000)],
        "source": [rng.choice(["A", "B"]) for _ in range(2000)],
        "mention": [rng.choice(["x", "y", "z"]) for _ in range(2000)],
    }, index=[rng.randrange(10**9) for _ in range(2000)])
    for limit in (1, 7, 300, 1999, 2000, 5000):
        want = table_order(rows).iloc[:limit]["event_id"].tolist()
        assert review.first_rows(rows, limit)["event_id"].tolist() == want, limit
