"""Which online geocoder failures are retried, how long to wait, and the
rate limiter that does both.

The policy (:class:`RetryPolicy`), per kind of failure (:func:`classify`):

* **transient** - timeouts, a refused or reset connection, HTTP 408, 429,
  500, 502, 503, 504: retried up to ``max_retries`` times with exponential
  back-off (``backoff_seconds``, doubled each retry, capped at
  ``max_backoff_seconds``).
* **Retry-After** (429 or 503, seconds or an HTTP-date): the service is not
  asked again - by any query or thread - before that time. When the wait is
  longer than ``max_retry_after`` the lookup gives up at once and the
  service rests until then; lookups meanwhile fail without a request.
* **malformed** - an answer that is not the service's format (bad JSON, an
  empty body, an HTML page, a place without coordinates): retried
  ``malformed_retries`` times (default once: a truncated response may be a
  proxy's hiccup, but a service that sends garbage twice is broken for now).
* **refused** - every other 4xx (400, 401, 403, 404, 402 quota): never
  retried; asking again will not change the answer.

:class:`BackoffRateLimiter` is geopy's :class:`~geopy.extra.rate_limiter.
RateLimiter` with that policy in its retry loop. Every attempt, retries
included, takes a request slot; at most one request is in flight, and the
next starts ``min_delay_seconds`` after the previous one *ended*. So the
delay holds where it counts, between arrivals at the server, for all threads
sharing the limiter and whatever the client's scheduling jitter (geopy spaces
the starts only, which a busy machine can compress by tens of ms).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from contextlib import contextmanager
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from itertools import count
from pathlib import Path
from typing import Any, Callable, Iterator

from geopy.adapters import AdapterHTTPError, get_retry_after
from geopy.exc import (
    GeocoderAuthenticationFailure,
    GeocoderInsufficientPrivileges,
    GeocoderParseError,
    GeocoderQueryError,
    GeocoderQuotaExceeded,
    GeocoderRateLimited,
    GeocoderServiceError,
)
from geopy.extra.rate_limiter import RateLimiter

__all__ = [
    "BackoffRateLimiter",
    "Fault",
    "RETRY_STATUSES",
    "RetryPolicy",
    "ServiceResting",
    "SharedRequestSlot",
    "classify",
    "http_status",
    "retry_after",
]

logger = logging.getLogger(__name__)

#: HTTP statuses worth asking again (RFC 9110: the request may succeed later).
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Statuses whose ``Retry-After`` header is honoured.
RETRY_AFTER_STATUSES = frozenset({429, 503})
_REFUSAL_ERRORS = (
    GeocoderQueryError,
    GeocoderAuthenticationFailure,
    GeocoderInsufficientPrivileges,
    GeocoderQuotaExceeded,
)


class Fault(Enum):
    TRANSIENT = "transient"
    MALFORMED = "malformed"
    REFUSED = "refused"


class ServiceResting(GeocoderServiceError):
    """Not asked: the service told us to wait longer than we are willing to."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the service asked to wait {seconds:.0f} s more (Retry-After)")
        self.seconds = seconds


def _http_error(error: BaseException) -> AdapterHTTPError | None:
    """The AdapterHTTPError geopy raised ``error`` from, if any."""
    seen = 0
    cause: BaseException | None = error
    while cause is not None and seen < 8:
        if isinstance(cause, AdapterHTTPError):
            return cause
        cause, seen = cause.__cause__, seen + 1
    return None


def http_status(error: BaseException) -> int | None:
    """The HTTP status behind a geopy error (None for network/parse errors)."""
    http = _http_error(error)
    return None if http is None else http.status_code


def retry_after(error: BaseException) -> float | None:
    """Seconds the service asked us to wait (429/503 ``Retry-After``), or None.

    geopy parses the header for 429 only (``GeocoderRateLimited.retry_after``);
    for 503 it is read from the HTTP error geopy chained as ``__cause__``."""
    seconds = getattr(error, "retry_after", None)
    if seconds is None:
        http = _http_error(error)
        if http is not None and http.status_code in RETRY_AFTER_STATUSES:
            seconds = get_retry_after(http.headers or {})
    return None if seconds is None else max(float(seconds), 0.0)


def classify(error: GeocoderServiceError) -> Fault:
    """Transient, malformed or refused (see the module docstring)."""
    if isinstance(error, GeocoderParseError):
        return Fault.MALFORMED
    status = http_status(error)
    if status is not None:
        if status in RETRY_STATUSES or status >= 500:
            return Fault.TRANSIENT
        return Fault.REFUSED
    if isinstance(error, GeocoderRateLimited):  # a subclass of GeocoderQuotaExceeded
        return Fault.TRANSIENT
    if isinstance(error, _REFUSAL_ERRORS):  # e.g. Nominatim's 200 {"error": ...}
        return Fault.REFUSED
    return Fault.TRANSIENT  # timeouts, refused/reset connections


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one lookup is retried (see the module)."""

    max_retries: int = 2
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_retry_after: float = 60.0
    malformed_retries: int = 1

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.malformed_retries < 0:
            raise ValueError("retries must be >= 0")
        if not (0 <= self.backoff_seconds <= self.max_backoff_seconds):
            raise ValueError("need 0 <= backoff_seconds <= max_backoff_seconds")
        if self.max_retry_after < 0:
            raise ValueError("max_retry_after must be >= 0")

    def backoff(self, retry: int) -> float:
        """Wait before retry number ``retry`` (0-based): exponential, capped."""
        return min(self.max_backoff_seconds, self.backoff_seconds * 2.0**retry)

    def retries_for(self, fault: Fault) -> int:
        """Most retries that faults of this kind earn within one lookup."""
        if fault is Fault.REFUSED:
            return 0
        if fault is Fault.MALFORMED:
            return self.malformed_retries
        return self.max_retries


class SharedRequestSlot:
    """The request slot shared by every process that uses the same file.

    Two ingests running at once must not double the rate a service sees, so
    the spacing and any Retry-After rest also live in a small file (beside
    the geocode cache) guarded by ``flock``: a process holds the lock for
    the whole request, waits until ``min_delay`` has passed since the end of
    the last request of *any* process, and writes its own end time when it
    is done. Wall-clock time, as it is compared across processes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @staticmethod
    def _read(fh) -> tuple[float, float]:
        fh.seek(0)
        parts = fh.read().split()
        try:
            return float(parts[0]), float(parts[1])
        except (IndexError, ValueError):  # new or unreadable file: no history
            return 0.0, 0.0

    @contextmanager
    def hold(self, min_delay: float, max_rest: float, sleep: Callable[[float], None]) -> Iterator[Callable[[float], None]]:
        """Hold the slot for one request; yields ``rest(seconds)`` to record a
        Retry-After for all processes."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="ascii") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                last_end, not_before = self._read(fh)
                rest = not_before - time.time()
                if rest > max_rest:
                    raise ServiceResting(rest)
                wait = max(rest, last_end + min_delay - time.time())
                if wait > 0:
                    sleep(wait)
                asked: list[float] = []
                try:
                    yield asked.append
                finally:
                    now = time.time()
                    until = max([not_before, *(now + seconds for seconds in asked)])
                    fh.seek(0)
                    fh.truncate()
                    fh.write(f"{now!r} {until!r}\n")
                    fh.flush()
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


class BackoffRateLimiter(RateLimiter):
    """geopy's RateLimiter with :class:`RetryPolicy` back-off and Retry-After.

    Exceptions are never swallowed: after the last attempt the geopy error
    is raised, and :class:`ServiceResting` when the service asked for a
    longer rest than ``policy.max_retry_after``.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        min_delay_seconds: float = 0.0,
        policy: RetryPolicy = RetryPolicy(),
        shared_slot: SharedRequestSlot | None = None,
    ) -> None:
        super().__init__(
            func,
            min_delay_seconds=min_delay_seconds,
            max_retries=policy.max_retries,
            error_wait_seconds=max(policy.backoff_seconds, min_delay_seconds),
            swallow_exceptions=False,
        )
        self.policy = policy
        self._not_before: float | None = None  # set by Retry-After (guarded by _lock)
        self._one_at_a_time = threading.Lock()
        self.shared_slot = shared_slot

    # -- shared rest --------------------------------------------------------
    def rest(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (every query, every thread)."""
        with self._lock:
            until = self._clock() + seconds
            if self._not_before is None or until > self._not_before:
                self._not_before = until

    def resting_for(self) -> float:
        """Seconds until the service may be asked again (0 when it may now)."""
        with self._lock:
            if self._not_before is None:
                return 0.0
            return max(self._not_before - self._clock(), 0.0)

    def _acquire_request_slot_gen(self):
        # geopy's slot grid, plus the rest a Retry-After imposed.
        while True:
            with self._lock:
                clock = self._clock()
                rest = 0.0 if self._not_before is None else self._not_before - clock
                if rest > self.policy.max_retry_after:
                    raise ServiceResting(rest)
                spacing = (
                    0.0 if self._last_call is None
                    else self.min_delay_seconds - (clock - self._last_call)
                )
                wait = max(rest, spacing)
                if wait <= 0:
                    self._last_call = clock
                    return
            yield wait

    # -- the retry loop -----------------------------------------------------
    def _wait_before_retry(self, error: GeocoderServiceError, retry: int, seen: Counter,
                           share_rest: Callable[[float], None] | None = None) -> float | None:
        """Seconds to sleep before retry number ``retry``, or None to give up.

        ``seen`` counts this lookup's faults by kind: every retry counts
        against ``max_retries``, and malformed answers also against
        ``malformed_retries``."""
        fault = classify(error)
        seen[fault] += 1
        asked = retry_after(error)
        if asked:
            self.rest(asked)  # holds for other queries too, even if we give up
            if share_rest is not None:
                share_rest(asked)  # ... and for other processes
            if asked > self.policy.max_retry_after:
                return None
        if retry >= self.policy.max_retries or seen[fault] > self.policy.retries_for(fault):
            return None
        # A Retry-After is waited out by the slot acquisition (it is shared).
        return 0.0 if asked else self.policy.backoff(retry)

    @contextmanager
    def _process_slot(self) -> Iterator[Callable[[float], None] | None]:
        if self.shared_slot is None:
            yield None
            return
        with self.shared_slot.hold(self.min_delay_seconds, self.policy.max_retry_after, self._sleep) as share_rest:
            yield share_rest

    def _request_ended(self) -> None:
        with self._lock:
            self._last_call = self._clock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        seen: Counter = Counter()
        for retry in count():
            with self._one_at_a_time, self._process_slot() as share_rest:
                self._acquire_request_slot()
                try:
                    return self.func(*args, **kwargs)
                except GeocoderServiceError as error:
                    wait = self._wait_before_retry(error, retry, seen, share_rest)
                    if wait is None:
                        raise
                    logger.warning(
                        "%s: %s (%s), retrying in %.2f s (retry %d)",
                        type(self).__name__, type(error).__name__, error, wait, retry + 1,
                    )
                finally:
                    self._request_ended()
            self._sleep(wait)  # other queries may use the service meanwhile
        raise AssertionError("unreachable")  # pragma: no cover
