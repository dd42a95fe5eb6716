"""Name keys: how a place name as written becomes something to look up.

Two keys per name. ``name_key`` folds case, diacritics, apostrophes and
hyphens ("Gora-Podol" == "gora podol"). ``skeleton_key`` also folds the
usual variation between transliterations of Slavic names (y/i/j, kh/h, w/v,
doubled letters), so Kozynka, Graivoronsky, Grayvoronskiy meet Kozinka and
Grayvoronsky. Skeleton matches are scored below exact ones.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_APOSTROPHES = "'’‘`´ʹʼʻ\u02bc"
_SEPARATORS = re.compile(r"[\s\-–—_/.,()\"“”]+")
_LATIN = re.compile(r"^[\x00-\u024f\u1e00-\u1eff'’‘`´ʹʼʻ\s\-–—_/.,()]+$")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount"}
_DOUBLE = re.compile(r"(.)\1+")


def is_latin(name: str) -> bool:
    """Latin-script names are the only ones English text can contain."""
    return bool(_LATIN.match(name))


def fold(text: str) -> str:
    """Case- and accent-insensitive form, keeping letters, digits and spaces."""
    if text.isascii():  # the common case in English news: no accents to strip
        stripped = text.replace("'", "").replace("`", "")
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
        stripped = stripped.replace("ß", "ss").replace("ø", "o").replace("ł", "l").replace("đ", "d")
        for a in _APOSTROPHES:
            stripped = stripped.replace(a, "")
    return _SEPARATORS.sub(" ", stripped.casefold()).strip()


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """The lookup key of a name (cached: the geoparser asks for the same n-grams often)."""
    words = fold(name).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


@lru_cache(maxsize=65536)
def skeleton_key(name: str) -> str:
    key = name_key(name)
    key = key.replace("kh", "h").replace("y", "i").replace("j", "i").replace("w", "v")
    key = key.replace("ph", "f")
    return _DOUBLE.sub(r"\1", key)


#: Adjectival endings of Slavic district names: Grayvoronsky → Grayvoron.
_ADJECTIVAL = re.compile(r"(?:sk(?:ii|iy|yi|yy|y|i|ij|aya|a|e|oe|oye)|ck(?:i|y))$")


def district_stem(name: str) -> str | None:
    """"Graivoronsky" → "graivoron": the town a raion is named after."""
    key = name_key(name)
    if " " in key:
        return None
    stem = _ADJECTIVAL.sub("", key)
    return stem if stem != key and len(stem) >= 3 else None
