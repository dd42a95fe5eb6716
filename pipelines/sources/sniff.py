"""Tell feeds, HTML pages, plain text and binary files apart by their bytes.

Why content first: saved pages are named ``.xml``, feeds are served as
``text/plain`` and PDFs as ``text/html`` often enough that neither the
extension nor the Content-Type alone can be trusted. The Content-Type only
decides when the bytes do not.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["feed", "html", "text", "binary"]

#: Signatures of formats that are never an article (PDF, images, archives, media).
_MAGIC = (b"%PDF", b"\x89PNG", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b",
          b"BM", b"II*\x00", b"MM\x00*", b"OggS", b"ID3", b"\x00\x00\x01\x00", b"wOFF", b"wOF2")
_PROLOGUE = re.compile(r"\A(?:\s+|<\?xml[^>]*\?>|<!--.*?-->|<\?xml-stylesheet[^>]*\?>)*", re.S)
_FEED_ROOT = re.compile(r"<(?:rss|feed|rdf:rdf)\b", re.I)
_HTML_START = re.compile(r"<(?:!doctype\s+html|html)\b", re.I)
_HTML_ANYWHERE = re.compile(r"<(?:head|body|article|p|div|title)\b", re.I)

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
              "text/xml")


def media_type(content_type: str | None) -> str:
    """``text/html; charset=utf-8`` → ``text/html``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def sniff(data: bytes, content_type: str | None = None) -> Kind:
    """What ``data`` is: ``feed``, ``html``, ``text`` or ``binary``."""
    head = data[:8192]
    if head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or b"\x00" in head:
        return "binary"
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    body = text[_PROLOGUE.match(text).end():]
    if _FEED_ROOT.match(body):
        return "feed"
    if _HTML_START.match(body):
        return "html"
    kind = media_type(content_type)
    if kind in HTML_TYPES and _HTML_ANYWHERE.search(body):
        return "html"
    if kind.startswith(("image/", "audio/", "video/", "font/")) or kind in ("application/pdf", "application/zip",
                                                                          "application/octet-stream"):
        return "binary"
    return "text"
