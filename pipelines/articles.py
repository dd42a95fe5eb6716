"""Read articles from disk, refusing what is not usable text.

I/O lives here; everything downstream takes an :class:`Article` and is pure.
A user mistake (missing path, empty, binary, non-UTF-8 or oversized file)
raises :class:`InputError` with a one-line message naming the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .errors import InputError

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
#: Saved web pages; ``pipelines.sources`` extracts their text (a folder given to
#: ``ingest`` contributes them too).
HTML_SUFFIXES = (".html", ".htm")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<body>.*?)\n---[ \t]*\n", re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9А-Я])|\n\s*\n|\n(?=\S)")
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Col|Lt|Sgt|St|Mt|Ft|Jr|Sr|Rep|Sen|Gov|No|vs|etc|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|U\.K|e\.g|i\.e)\.$")


@dataclass(frozen=True)
class Article:
    """An article's text with what is known about it."""

    text: str
    source: str  # title, or the file name when there is no title
    title: str = ""
    url: str = ""
    published: date | None = None
    path: str = ""


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def list_article_files(paths: list[str], suffixes: tuple[str, ...] = TEXT_SUFFIXES) -> list[Path]:
    """Expand directories to their article files (``suffixes``); a missing path is an error."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{raw}: no such file or directory")
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
            if not found:
                raise InputError(f"{raw}: directory holds no {'/'.join(suffixes)} files")
            files.extend(found)
        else:
            files.append(path)
    return files


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text or a clear refusal."""
    if not data.strip():
        raise InputError(f"{name}: file is empty")
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (bad byte at offset {exc.start}); convert it to UTF-8") from None
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > 0.05 * min(len(text), 8192):
        raise InputError(f"{name}: looks like a binary file, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_article(path: Path, *, max_bytes: int, published: date | None = None,
                 source: str | None = None) -> Article:
    """Read one file; front matter (``title``, ``published``, ``url``,
    ``source``) fills what the caller did not give."""
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(f"{path}: {size:,} bytes is over the {max_bytes:,}-byte limit (EVENT_ATLAS_MAX_ARTICLE_BYTES)")
    text = decode_text(path.read_bytes(), str(path))
    return parse_article(text, name=path.name, published=published, source=source, path=str(path))


def parse_article(text: str, *, name: str, published: date | None = None, source: str | None = None,
                  path: str = "") -> Article:
    from .dates import parse_iso_date

    meta: dict[str, str] = {}
    m = _FRONT_MATTER.match(text)
    if m:
        for line in m.group("body").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip().strip('"').strip("'")
        text = text[m.end():]
    if not text.strip():
        raise InputError(f"{name}: article has no text")
    title = meta.get("title") or _title_line(text)
    if published is None and meta.get("published"):
        try:
            published = parse_iso_date(meta["published"])
        except InputError as exc:
            raise InputError(f"{name}: front matter: {exc}") from None
    return Article(
        text=text,
        source=source or meta.get("source") or title or name,
        title=title,
        url=meta.get("url", ""),
        published=published,
        path=path,
    )


def _title_line(text: str) -> str:
    """A first line that stands alone and does not end like a sentence."""
    first, _, rest = text.lstrip().partition("\n")
    first = first.strip().lstrip("#").strip()
    if first and len(first) <= 200 and not first.endswith((".", "!", "?")) and rest.startswith("\n"):
        return first
    return ""


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their offsets; paragraph breaks always end a sentence."""
    sentences: list[Sentence] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        candidate = text[start:m.start()]
        if _ABBREV.search(candidate.rstrip("\"”’)] ")) and "\n" not in m.group():
            continue
        _append(sentences, text, start, m.start())
        start = m.end()
    _append(sentences, text, start, len(text))
    return sentences


def _append(out: list[Sentence], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        offset = start + chunk.index(stripped)
        out.append(Sentence(offset, offset + len(stripped), stripped))
