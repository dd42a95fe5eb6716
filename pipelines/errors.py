"""Exception hierarchy, modelled on geopy's.

Everything the user can cause or fix is an :class:`EventAtlasError`; the CLI
prints its message on one line and exits non-zero. Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations


class EventAtlasError(Exception):
    """Base class: a problem the user can understand and act on."""


class InputError(EventAtlasError):
    """An article, path or argument that cannot be used as given."""


class DateError(InputError):
    """A date that is malformed, or a year that cannot be known."""


class StoreError(EventAtlasError):
    """The event store cannot be read or written."""


class GazetteerError(EventAtlasError):
    """The gazetteer index or an imported dump is unusable."""
