"""The detail view of one event: every field, the evidence sentences and the
source, as HTML for ``st.html``.

All values are untrusted article data: each goes through
:func:`dashboard.safe.text_html` (escaped, bidi-isolated); the only link is the
article URL, and only when it is http(s). ``st.html`` also sanitizes with
DOMPurify, but nothing here relies on that.

The card also shows each evidence sentence with its mention highlighted
(escaped piece by piece), the review history (who, when, what changed), and
the claims about the same place and dates side by side: who asserts and who
denies, each with its sentence and source, conflicts flagged, never merged.
"""

from __future__ import annotations

import json
import re

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
    return [sentence for sentence, _ in evidence_items(row)]


def _mentions(value: object) -> list[str]:
    return [part for part in (" ".join(p.split()) for p in _flat(value).split(" | ")) if part]


def evidence_items(row: pd.Series) -> list[tuple[str, list[str]]]:
    """(sentence, mentions in it) for each distinct supporting sentence, in
    order; else the main sentence with the event's mention(s)."""
    found: dict[str, list[str]] = {}
    for item in _json_list(row.get("evidence")):
        if isinstance(item, dict) and item.get("sentence"):
            names = found.setdefault(str(item["sentence"]), [])
            for name in _mentions(item.get("mention")):
                if name not in names:
                    names.append(name)
    if found:
        fallback = _mentions(row.get("mention"))
        return [(sentence, names or fallback) for sentence, names in found.items()]
    return [(str(row.get("sentence")), _mentions(row.get("mention")))] if _flat(row.get("sentence")) else []


def mention_spans(sentence: str, mentions: list[str]) -> list[tuple[int, int]]:
    """Where the mentions occur in the sentence (case-insensitive, literal),
    overlapping spans merged, in order."""
    spans = sorted(
        (m.start(), m.end())
        for name in mentions if name
        for m in re.finditer(re.escape(name), sentence, flags=re.IGNORECASE)
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


HIGHLIGHT_STYLE = "background:#ffe58f;font-weight:600;padding:0 1px"


def highlight_html(sentence: str, mentions: list[str]) -> str:
    """The sentence as escaped text with each mention in a highlighted ``<b>``;
    every piece is escaped and bidi-isolated on its own, so neither the
    sentence nor the mention can add markup or reorder the other."""
    out, at = [], 0
    for start, end in mention_spans(sentence, mentions):
        out.append(text_html(sentence[at:start]))
        out.append(f'<b class="ea-mention" style="{HIGHLIGHT_STYLE}">{text_html(sentence[start:end])}</b>')
        at = end
    out.append(text_html(sentence[at:]))
    return "".join(out)


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


#: Fields a history line shows as "old → new" (others: just the field name).
HISTORY_VALUES = ("place", "lat", "lon", "date", "date_end", "admin1", "country", "review_status", "resolved")
MAX_VALUE = 80


def _short(value: object) -> str:
    text = "∅" if value is None or value == "" else _flat(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def history_entries(row: pd.Series) -> list[dict]:
    """The review history, oldest first, each {at, by, action, note, changes}
    with ``changes`` as display strings."""
    entries = []
    for item in _json_list(row.get("review_history")):
        if not isinstance(item, dict):
            continue
        changes = item.get("changes") if isinstance(item.get("changes"), dict) else {}
        shown = []
        for field, values in changes.items():
            if field in HISTORY_VALUES and isinstance(values, list) and len(values) == 2:
                shown.append(f"{field}: {_short(values[0])} → {_short(values[1])}")
            else:
                shown.append(f"{field} changed")
        entries.append({"at": _flat(item.get("at")), "by": _flat(item.get("by")),
                        "action": _flat(item.get("action")), "note": _flat(item.get("note")),
                        "changes": shown})
    return entries


def history_html(row: pd.Series) -> str:
    entries = history_entries(row)
    if not entries:
        return '<p class="ea-history"><b>review history</b> <small>none: not reviewed yet</small></p>'
    cell = 'style="text-align:left;padding-right:10px;vertical-align:top"'
    lines = "".join(
        f"<tr><td {cell}>{text_html(e['at'])}</td><td {cell}>{text_html(e['by'])}</td>"
        f"<td {cell}>{text_html(e['action'])}</td>"
        f"<td {cell}>{'<br>'.join(text_html(c) for c in e['changes'])}</td>"
        f"<td {cell}>{text_html(e['note'])}</td></tr>"
        for e in entries
    )
    head = "".join(f"<th {cell}>{h}</th>" for h in ("when (UTC)", "who", "action", "changes", "note"))
    return (f'<div class="ea-history"><p style="margin:8px 0 2px"><b>review history</b></p>'
            f'<table style="font-size:13px"><tr>{head}</tr>{lines}</table></div>')


# -- claims ------------------------------------------------------------------

STANCES = ("asserts", "denies")
STANCE_TITLES = {"asserts": "asserts", "denies": "denies", "": "reports (no stance)"}


def _claim(item: dict, row: pd.Series | dict, this: bool) -> dict:
    stance = _flat(item.get("stance", item.get("claim_stance"))).lower()
    return {
        "claimant": _flat(item.get("claimant")) or "(unattributed)",
        "stance": stance if stance in STANCES else "",
        "sentence": _flat(item.get("sentence")) or _flat(row.get("sentence")),
        "source": _flat(item.get("source")) or _flat(row.get("source")),
        "url": _flat(item.get("url")) or _flat(row.get("url")),
        "date": _flat(item.get("date")) or _flat(row.get("date")),
        "place": _flat(item.get("place")) or _flat(row.get("place")),
        "conflict": bool(item.get("conflict")) if not is_missing(item.get("conflict")) else False,
        "against": [_flat(n) for n in _json_list(item.get("conflicts_with")) if _flat(n)],
        "relation": _flat(item.get("relation")),
        "this": this,
    }


def own_claims(row: pd.Series) -> list[dict]:
    """The claims the event itself carries: its ``claims`` JSON list, else its
    ``claimant``/``claim_stance`` columns; none when the columns are absent."""
    listed = [_claim(c, row, True) for c in _json_list(row.get("claims")) if isinstance(c, dict)]
    if listed:
        return listed
    if _flat(row.get("claimant")):
        return [_claim({"claimant": row.get("claimant"), "stance": row.get("claim_stance")}, row, True)]
    return []


def related_claims(events: pd.DataFrame | None, row: pd.Series) -> list[dict]:
    """The claims about this event's place and dates, from every source:
    :func:`pipelines.claims.related_claims` when the pipeline has it, else
    the event's own claims. Conflicts are flagged when both an "asserts" and
    a "denies" are present, whatever the pipeline said."""
    claims: list[dict] = []
    try:
        from pipelines.claims import related_claims as find  # the pipeline's, when present
    except ImportError:
        find = None
    if find is not None and events is not None and len(events) and "event_id" in events:
        try:
            found = find(events, str(row.get("event_id")))
        except KeyError:  # not among ``events`` (a frame older than the row)
            found = None
        if found is not None and len(found):
            for _, item in pd.DataFrame(found).iterrows():
                claims.append(_claim(item.to_dict(), item, _flat(item.get("event_id")) == _flat(row.get("event_id"))))
    if not claims:
        claims = own_claims(row)
    if {c["stance"] for c in claims} >= set(STANCES):
        for c in claims:
            c["conflict"] = c["conflict"] or c["stance"] in STANCES
    return claims


def _claim_html(c: dict) -> str:
    url = safe_url(c["url"])
    source = text_html(c["source"] or "source")
    if url:
        source = f'<a href="{escape_text(url)}" target="_blank" rel="noopener noreferrer nofollow">{source}</a>'
    against = f": contradicted by {', '.join(c['against'])}" if c["against"] else ""
    flag = f' <small style="color:#b00020">(conflict{text_html(against)})</small>' if c["conflict"] else ""
    relation = "this event" if c["this"] else c["relation"]
    this = f" <small>({text_html(relation)})</small>" if relation else ""
    when = f"{c['date']} · {c['place']}" if c["place"] else c["date"]
    return (
        '<div class="ea-claim" style="margin:4px 0 8px">'
        f"<b>{text_html(c['claimant'])}</b> {STANCE_TITLES[c['stance']]}{flag}{this}<br>"
        f"<small>{text_html(when)} · {source}</small>"
        f'<blockquote style="margin:4px 0;padding-left:8px;border-left:3px solid #ccc">{text_html(c["sentence"])}</blockquote>'
        "</div>"
    )


def claims_html(claims: list[dict]) -> str:
    """The claims side by side, one column per stance (asserts | denies |
    no stance), with who made each and where it was published; a banner
    when they disagree. Nothing when there are no claims."""
    if not claims:
        return ""
    conflict = any(c["conflict"] for c in claims)
    banner = ('<p class="ea-conflict" style="margin:4px 0;color:#b00020"><b>⚠ Sources disagree</b> '
              "<small>(the claims are kept side by side, not merged)</small></p>" if conflict else "")
    columns = []
    for stance in (*STANCES, ""):
        group = [c for c in claims if c["stance"] == stance]
        if group:
            columns.append(
                f'<div class="ea-claims-{stance or "other"}" style="flex:1;min-width:220px">'
                f'<p style="margin:2px 0"><b>{STANCE_TITLES[stance]}</b> ({len(group)})</p>'
                + "".join(_claim_html(c) for c in group) + "</div>"
            )
    return (f'<div class="ea-claims"><p style="margin:8px 0 2px"><b>claims</b></p>{banner}'
            f'<div style="display:flex;gap:16px;flex-wrap:wrap">{"".join(columns)}</div></div>')


def detail_html(row: pd.Series, claims: list[dict] | None = None) -> str:
    """The detail card of one event: facts, evidence with the mention
    highlighted, source, other candidates, claims, review history."""
    facts = "".join(
        f"<tr><th style=\"text-align:left;padding-right:12px;font-weight:600\">{label}</th>"
        f"<td>{text_html(_flat(row.get(col)))}</td></tr>"
        for label, col in FACTS if _flat(row.get(col))
    )
    if not is_missing(row.get("lat")) and not is_missing(row.get("lon")):
        facts += f"<tr><th style=\"text-align:left\">lat, lon</th><td>{float(row['lat']):.5f}, {float(row['lon']):.5f}</td></tr>"
    status = _flat(row.get("review_status"))
    facts += (f"<tr><th style=\"text-align:left\">review</th><td>{text_html(status or 'not reviewed')}"
              + (f" by {text_html(_flat(row.get('reviewed_by')))}" if status and _flat(row.get("reviewed_by")) else "")
              + "</td></tr>")
    quotes = "".join(
        f'<blockquote class="ea-evidence" style="margin:6px 0;padding-left:8px;border-left:3px solid #ccc">'
        f"{highlight_html(sentence, mentions)}</blockquote>"
        for sentence, mentions in evidence_items(row)
    )
    others = candidate_names(row)
    alternatives = (f"<p><small>other candidates: {text_html(', '.join(others))}</small></p>" if others else "")
    return (
        '<div class="ea-detail" style="font-size:14px;line-height:1.45">'
        f"<table>{facts}</table>"
        f"<p style=\"margin:8px 0 2px\"><b>evidence</b></p>{quotes}"
        f"<p>source: {source_html(row)}</p>{alternatives}"
        f"{claims_html(own_claims(row) if claims is None else claims)}{history_html(row)}</div>"
    )
