"""The "Add article" panel's checks: pasted or uploaded text → an Article.

Uploads are judged by their bytes, never by their extension: the size limit
first, then known binary signatures, NUL bytes, undecodable or control-heavy
bytes (:func:`pipelines.articles.decode_text`), each refused with a one-line
message. HTML (recognised by its content) becomes text with the standard
library's parser, dropping scripts and styles. The upload's name is only a
label (:func:`dashboard.safe.clean_label`): nothing here touches the file
system, and the only thing the panel writes is the store, through the pipeline.

No Streamlit import: tested on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from html.parser import HTMLParser

from pipelines.articles import Article, decode_text, parse_article
from pipelines.dates import missing_year_mentions
from pipelines.errors import DateError, InputError
from pipelines.pipeline import IngestReport

from .safe import clean_label

PASTED = "pasted text"
#: What the file picker offers; the content decides how a file is read.
UPLOAD_TYPES = ("txt", "md", "html", "htm")

#: Leading bytes of common binary formats, for a clearer refusal than "binary".
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or a Word/OpenDocument file)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
)

_HTML_START = re.compile(
    r"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|article|main|section|p|div|h[1-6])\b",
    re.I | re.S,
)
#: Elements whose content is never article text.
_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg", "math",
                   "nav", "footer", "form", "button", "select", "textarea"})
_BLOCK = frozenset({"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                    "article", "section", "main", "header", "blockquote", "pre", "tr", "table",
                    "figcaption", "dd", "dt", "hr"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr"})


def refuse_binary(data: bytes, label: str) -> None:
    """Raise InputError when ``data`` starts like a known binary format."""
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            raise InputError(f"{label}: this is {kind}, not text; upload a .txt, .md or .html article")


def looks_like_html(text: str) -> bool:
    """True when the text starts like an HTML document or fragment (doctype,
    <html>, <body>, <p>, <div>, …). An article that merely quotes a tag is text."""
    return bool(_HTML_START.match(text))


class _TextExtractor(HTMLParser):
    """Visible text of an HTML page; <title> kept apart; script, style and
    other non-content elements dropped with everything inside them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._skip: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP and tag not in _VOID:
            self._skip.append(tag)
        if tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif self._skip and tag == self._skip[-1]:
            self._skip.pop()
        elif tag in _SKIP and tag in self._skip:
            while self._skip and self._skip.pop() != tag:
                pass
        if tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title and not self._skip:
            self.title_parts.append(data)
        elif not self._skip:
            self.parts.append(data)


@dataclass(frozen=True)
class HtmlText:
    title: str
    text: str


def html_to_text(markup: str) -> HtmlText:
    """The page's title and its visible text, paragraphs separated by blank lines."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    paragraphs = []
    for block in re.split(r"\n\s*\n", "".join(parser.parts)):
        line = " ".join(block.split())
        if line:
            paragraphs.append(line)
    return HtmlText(title=" ".join("".join(parser.title_parts).split()), text="\n\n".join(paragraphs))


def _check_size(size: int, label: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise InputError(f"{label}: {size:,} bytes is over the {max_bytes:,}-byte limit "
                         "(EVENT_ATLAS_MAX_ARTICLE_BYTES)")


def article_from_upload(data: bytes, name: object, *, published: date | None, max_bytes: int) -> Article:
    """An uploaded file's bytes → Article, or InputError saying why not.

    ``name`` is what the browser sent; it only becomes a label (source when
    the article has no title) and never a path.
    """
    label = clean_label(name)
    _check_size(len(data), label, max_bytes)
    refuse_binary(data, label)
    text = decode_text(data, label)
    return _article(text, label, published)


def article_from_paste(text: str, *, published: date | None, max_bytes: int) -> Article:
    """Pasted text → Article. Pasted text is always text, never HTML: a pasted
    ``<script>`` is a quotation to keep, not markup to run or drop."""
    data = text.encode("utf-8", errors="surrogatepass")
    _check_size(len(data), PASTED, max_bytes)
    return _parse(decode_text(data, PASTED), PASTED, published)


def _article(text: str, label: str, published: date | None) -> Article:
    if not looks_like_html(text):
        return _parse(text, label, published)
    page = html_to_text(text)
    if not page.text.strip():
        raise InputError(f"{label}: the HTML page has no visible text")
    article = _parse(page.text, label, published)
    return replace(article, title=page.title, source=page.title) if page.title else article


def _parse(text: str, label: str, published: date | None) -> Article:
    article = parse_article(text, name=label, published=published)
    check_year(article, label)
    return replace(article, path="")


def check_year(article: Article, label: str) -> None:
    """Without a publication date, dates written without a year cannot be
    placed in time: ask for the date instead of guessing it."""
    if article.published is not None:
        return
    missing = missing_year_mentions(article.text)
    if missing:
        raise DateError(f"{label}: the year of \"{missing[0].text}\" is unknown; "
                        "give the publication date")


def summary(report: IngestReport) -> str:
    """One line for the panel after an ingest."""
    added = f"{report.added} event{'s' if report.added != 1 else ''} added"
    parts = [added]
    if report.already_stored:
        parts.append(f"{report.already_stored} already stored")
    if report.unresolved:
        parts.append(f"{report.unresolved} place mention{'s' if report.unresolved != 1 else ''} "
                     "left unresolved for review")
    return ", ".join(parts) + f"; {report.total_in_store} in the store."
