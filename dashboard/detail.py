"""The detail view of one event: every field, the evidence sentences and the
source, as HTML for ``st.html``.

All values are untrusted article data: each goes through
:func:`dashboard.safe.text_html` (escaped, bidi-isolated); the only link is the
article URL, and only when it is http(s). ``st.html`` also sanitizes with
DOMPurify, but nothing here relies on that.
"""

from __future__ import annotations

import json

import pandas as pd

from .safe import escape_text, is_missing, safe_url, text_html

#: (label, column) rows of the facts table, in display order.
FACTS = (
    ("date", "date"), ("until", "date_end"), ("date precision", "date_precision"),
    ("date basis", "date_basis"), ("place", "place"), ("mention", "mention"),
    ("district", "admin2"), ("region", "admin1"), ("country", "country"),
    ("geo precision", "geo_precision"), ("geocoder", "geocoder"), ("published", "published"),
)
MAX_LABEL = 90


def _flat(value: object) -> str:
    return "" if is_missing(value) else " ".join(str(value).split())


def event_label(row: pd.Series) -> str:
    """One line naming an event in the picker (Streamlit shows options as plain
    text); long values are cut."""
    place = _flat(row.get("place")) or _flat(row.get("mention")) or "(no place)"
    label = f"{_flat(row.get('date'))} · {place} · {_flat(row.get('source'))}"
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _json_list(value: object) -> list:
    try:
        parsed = json.loads(value) if isinstance(value, str) and value else []
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def evidence_sentences(row: pd.Series) -> list[str]:
    """Every supporting sentence (the evidence JSON), else the main sentence."""
    found = [str(e["sentence"]) for e in _json_list(row.get("evidence"))
             if isinstance(e, dict) and e.get("sentence")]
    unique = list(dict.fromkeys(found))
    return unique or ([str(row.get("sentence"))] if _flat(row.get("sentence")) else [])


def candidate_names(row: pd.Series) -> list[str]:
    return [str(c.get("name")) for c in _json_list(row.get("candidates")) if isinstance(c, dict) and c.get("name")]


def source_html(row: pd.Series) -> str:
    """The source as text, a link only to an http(s) URL; any other URL is shown
    as text marked as not opened."""
    source = text_html(_flat(row.get("source")) or "source")
    raw = row.get("url")
    url = safe_url(raw)
    if url:
        return (f'<a href="{escape_text(url)}" target="_blank" rel="noopener noreferrer nofollow">'
                f"{source}</a> <small>{text_html(url)}</small>")
    if _flat(raw):
        return f"{source} <small>(URL not a web link, not opened: <code>{text_html(raw)}</code>)</small>"
    return source


def detail_html(row: pd.Series) -> str:
    """The detail card of one event."""
    facts = "".join(
        f"<tr><th style=\"text-align:left;padding-right:12px;font-weight:600\">{label}</th>"
        f"<td>{text_html(_flat(row.get(col)))}</td></tr>"
        for label, col in FACTS if _flat(row.get(col))
    )
    if not is_missing(row.get("lat")) and not is_missing(row.get("lon")):
        facts += f"<tr><th style=\"text-align:left\">lat, lon</th><td>{float(row['lat']):.5f}, {float(row['lon']):.5f}</td></tr>"
    quotes = "".join(
        f'<blockquote style="margin:6px 0;padding-left:8px;border-left:3px solid #ccc">{text_html(s)}</blockquote>'
        for s in evidence_sentences(row)
    )
    others = candidate_names(row)
    alternatives = (f"<p><small>other candidates: {text_html(', '.join(others))}</small></p>" if others else "")
    return (
        '<div class="ea-detail" style="font-size:14px;line-height:1.45">'
        f"<table>{facts}</table>"
        f"<p style=\"margin:8px 0 2px\"><b>evidence</b></p>{quotes}"
        f"<p>source: {source_html(row)}</p>{alternatives}</div>"
    )
