"""Turning untrusted text (article text, titles, URLs, sources, place names,
upload names) into something inert for each place the dashboard shows it.

- HTML (map popups and tooltips, the detail view): :func:`escape_text`, and
  :func:`text_html` which also isolates bidirectional text, so a right-to-left
  override in a place name cannot reorder what follows it.
- Links: :func:`safe_url` keeps only absolute http(s) URLs; ``javascript:``,
  ``data:``, ``vbscript:`` and anything odd stay text.
- Streamlit markdown (messages): :func:`markdown_text` makes every markdown,
  HTML, directive (``:red[…]``) and math (``$…$``) character literal.
- Upload names: :func:`clean_label` keeps a short, printable basename; it is a
  label, never a path.

No Streamlit import: tested on its own.
"""

from __future__ import annotations

import html
import math
import posixpath
import string
import unicodedata
from urllib.parse import urlsplit

#: Unicode categories never kept in a label: controls, format characters
#: (zero-width, bidi overrides, BOM), line/paragraph separators, unassigned.
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
MAX_LABEL = 120
#: Characters that mean something in a JS template literal or a Jinja template.
_JS_TEMPLATE_SAFE = str.maketrans({"\\": "&#92;", "`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;"})


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def escape_text(value: object) -> str:
    """Untrusted text → HTML text that is also inert inside a JS template literal.

    folium pastes popup and tooltip HTML into `` $(`...`) `` unescaped, so
    ``\\``, `````` ` `````` and ``$`` become character references as well: nothing
    can end the literal or start a ``${...}`` substitution. So do ``{`` and
    ``}``: folium renders a popup's or tooltip's script and then compiles the
    result as a Jinja template again (``Element(template.render(...))``), so a
    ``{{ ... }}`` in article text would run as Jinja on the server.
    """
    if is_missing(value):
        return ""
    return html.escape(str(value), quote=True).translate(_JS_TEMPLATE_SAFE)


def text_html(value: object) -> str:
    """Escaped text in a ``<bdi>``: bidi controls inside it stay inside it."""
    text = escape_text(value)
    return f"<bdi>{text}</bdi>" if text else ""


def safe_url(url: object) -> str | None:
    """The URL if it is an absolute http(s) URL with a host, else None, so that
    ``javascript:``, ``data:``, relative or malformed URLs are never links.

    Any whitespace, control or invisible format character refuses the URL
    outright: browsers strip some of them (``java\\tscript:``), and bidi
    controls can disguise where a link goes.
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(c.isspace() or unicodedata.category(c) in _INVISIBLE for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


_MARKDOWN_SPECIAL = frozenset(string.punctuation)


def markdown_text(value: object) -> str:
    """Text that Streamlit's markdown shows literally.

    CommonMark lets any ASCII punctuation be backslash-escaped, which disarms
    links, images, emphasis, raw HTML, ``:color[...]`` directives and ``$``
    math alike. Newlines become spaces (messages are one line).
    """
    if is_missing(value):
        return ""
    flat = " ".join(str(value).split())
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in flat)


def clean_label(name: object, fallback: str = "upload") -> str:
    """An upload's file name as a label: the last path component (either slash),
    NFC, without controls, zero-width or bidi characters, at most MAX_LABEL
    characters; ``fallback`` when nothing printable is left. Never a path."""
    if not isinstance(name, str):
        return fallback
    text = unicodedata.normalize("NFC", name).replace("\\", "/")
    text = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)
    base = posixpath.basename(text.rstrip("/")).strip()
    if base in ("", ".", ".."):
        return fallback
    if len(base) > MAX_LABEL:
        base = base[: MAX_LABEL - 1] + "…"
    return base
