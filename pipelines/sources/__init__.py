"""Where articles come from besides text files: HTML pages and RSS/Atom feeds.

I/O (``fetch``, ``seen``, ``progress``, the planning half of ``ingest``) is
kept apart from pure transforms (``sniff``, ``html``, ``feeds``), so the
transforms can be tested on bytes and run on Dask workers unchanged.
"""

from __future__ import annotations

from .errors import FeedError, FetchError, SourceError

__all__ = ["FeedError", "FetchError", "SourceError"]
