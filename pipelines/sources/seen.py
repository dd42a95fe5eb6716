"""Which feed items have already been ingested into which store.

Why a registry and not the store: the store knows articles by their text, so
finding out that an item is old would mean fetching its page again. The
registry (SQLite in the cache folder) remembers each item's guid and link per
store, with the hash of the text it gave (``article_id``), so a second run
skips old items without a single request. An item is recorded only after its
events were written, and a failed item is never recorded: it is tried again
on the next run.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit, urlunsplit

from ..errors import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    store TEXT NOT NULL,
    key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    feed TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (store, key)
);
CREATE INDEX IF NOT EXISTS seen_hash ON seen (store, content_hash);
"""


def store_key(store: str) -> str:
    """A file store by its absolute path, a database by its URL without the password."""
    if "://" not in store:
        return str(Path(store).resolve())
    parts = urlsplit(store)
    if parts.password is None:
        return store
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{netloc}"))


class SeenRegistry:
    """Seen feed items of one store."""

    def __init__(self, path: Path, store: str):
        self.path = Path(path)
        self.store = store_key(store)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot use the seen-items registry ({exc})") from None
        return conn

    def seen(self, keys: Iterable[str]) -> bool:
        keys = [k for k in keys if k]
        if not keys:
            return False
        with closing(self._connect()) as conn:
            marks = ",".join("?" * len(keys))
            row = conn.execute(f"SELECT 1 FROM seen WHERE store = ? AND key IN ({marks}) LIMIT 1",
                               [self.store, *keys]).fetchone()
        return row is not None

    def known_content(self, content_hash: str) -> bool:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT 1 FROM seen WHERE store = ? AND content_hash = ? LIMIT 1",
                               (self.store, content_hash)).fetchone()
        return row is not None

    def mark(self, records: Iterable[tuple[Iterable[str], str, str]]) -> int:
        """Record ``(keys, content_hash, feed)`` for items whose events are stored."""
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        rows = [(self.store, key, content_hash, feed, now) for keys, content_hash, feed in records for key in keys if key]
        if not rows:
            return 0
        with closing(self._connect()) as conn, conn:
            conn.executemany("INSERT OR REPLACE INTO seen (store, key, content_hash, feed, seen_at) "
                             "VALUES (?, ?, ?, ?, ?)", rows)
        return len(rows)
