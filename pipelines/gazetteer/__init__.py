"""Offline gazetteer: an on-disk GeoNames index behind a geopy Geocoder.

``build`` writes the index once, ``index`` reads it, ``resolve`` ranks
candidates in context, ``geocoder`` is the geopy adapter, ``dump`` imports
GeoNames country files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from .geocoder import GazetteerGeocoder

#: The user's imported places live beside the index, in their own file.
USER_PLACES = "user-places.sqlite"


def open_gazetteer(settings: "Settings") -> "GazetteerGeocoder":
    """The offline geocoder; builds the index on first use (~25 s, once)."""
    from .geocoder import GazetteerGeocoder
    from .index import GazetteerIndex

    index = GazetteerIndex(
        settings.gazetteer_path,
        user_path=settings.cache_dir / USER_PLACES,
        overlay_path=settings.overlay_path,
    )
    return GazetteerGeocoder(index, user_agent=settings.user_agent)
