"""HTTP GET for pages and feeds: one request per URL, never retried.

Why no retries: a feed run touches hundreds of sites; a site that fails is
reported and tried again on the next run (it is not marked as seen), which is
kinder to it than a retry storm. Every request has a timeout, a real
User-Agent and a size limit that is enforced while reading, so a huge or
endless body costs at most ``max_bytes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

from .errors import FetchError

_URL = re.compile(r"\Ahttps?://[^\s/]+", re.I)
_ACCEPT = ("text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
           "application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.1")
_CHUNK = 64 * 1024


def is_url(text: str) -> bool:
    """An ``http(s)://host…`` address; anything else is treated as a path."""
    return bool(_URL.match(text))


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    body: bytes


class Fetcher:
    """A ``requests`` session with the project's limits."""

    def __init__(self, *, user_agent: str, timeout: float, max_bytes: int, max_redirects: int = 5,
                 session: requests.Session | None = None):
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.session = session or requests.Session()
        self.session.max_redirects = max_redirects
        self.session.headers.update({"User-Agent": user_agent, "Accept": _ACCEPT})

    @classmethod
    def from_settings(cls, settings) -> "Fetcher":
        return cls(user_agent=settings.user_agent, timeout=settings.fetch_timeout,
                   max_bytes=settings.max_article_bytes)

    def get(self, url: str) -> Fetched:
        """The body of ``url``, or :class:`FetchError` saying why not."""
        if not is_url(url):
            raise FetchError(f"{url}: not an http(s) URL")
        try:
            with self.session.get(url, timeout=self.timeout, stream=True) as response:
                if response.status_code >= 400:
                    raise FetchError(f"{url}: HTTP {response.status_code} {response.reason or ''}".rstrip())
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(self._too_large(url, int(declared)))
                body = bytearray()
                for chunk in response.iter_content(_CHUNK):
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise FetchError(self._too_large(url, len(body), at_least=True))
                return Fetched(response.url, response.headers.get("Content-Type", ""), bytes(body))
        except requests.Timeout:
            raise FetchError(f"{url}: no answer within {self.timeout:g} s (EVENT_ATLAS_FETCH_TIMEOUT)") from None
        except requests.TooManyRedirects:
            raise FetchError(f"{url}: more than {self.session.max_redirects} redirects") from None
        except requests.ConnectionError as exc:
            raise FetchError(f"{url}: cannot connect ({_reason(exc)})") from None
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {_reason(exc)}") from None

    def close(self) -> None:
        self.session.close()

    def _too_large(self, url: str, size: int, at_least: bool = False) -> str:
        amount = "the body" if at_least else f"{size:,} bytes"
        return f"{url}: {amount} is over the {self.max_bytes:,}-byte limit (EVENT_ATLAS_MAX_ARTICLE_BYTES)"


def _reason(exc: Exception) -> str:
    """The last line of a requests/urllib3 error chain, without the noise."""
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[-1][:200]
