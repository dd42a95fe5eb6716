"""Errors of one source item (a page, a feed item).

A :class:`SourceError` for an item given on the command line is a user
mistake (exit 2, nothing written); for an item found in a feed it is reported
and the other items are ingested.
"""

from __future__ import annotations

from ..errors import InputError


class SourceError(InputError):
    """A page or feed item that cannot be turned into an article."""


class FetchError(SourceError):
    """An HTTP fetch that failed: refused, timed out, 4xx/5xx, too large."""


class FeedError(SourceError):
    """A document that is not a readable RSS/Atom feed."""
