"""Progress of a long ingest on stderr: items done/total, rate, ETA.

On a terminal one line is redrawn in place; in a log (not a TTY) a line is
written at most every ``interval`` seconds, so a run of thousands of items
stays readable. The last line is always written.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_line(done: int, total: int, failed: int, elapsed: float) -> str:
    """``ingest: 12/40 items (30%), 1 failed, 3.1 items/s, ETA 9 s`` (pure)."""
    rate = done / elapsed if elapsed > 0 else 0.0
    parts = [f"ingest: {done}/{total} items ({100 * done // max(total, 1)}%)"]
    if failed:
        parts.append(f"{failed} failed")
    parts.append(f"{rate:.1f} items/s")
    if done < total:
        parts.append(f"ETA {format_seconds((total - done) / rate)}" if rate > 0 else "ETA unknown")
    else:
        parts.append(f"done in {format_seconds(elapsed)}")
    return ", ".join(parts)


class Progress:
    def __init__(self, total: int, *, stream: TextIO | None = None, interval: float = 2.0,
                 clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.done = 0
        self.failed = 0
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._last_shown = self.started
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def start(self) -> None:
        """Count from now (the work starts after a cluster came up)."""
        self.started = self._last_shown = self.clock()

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def advance(self, *, failed: bool = False) -> None:
        self.done += 1
        self.failed += failed
        now = self.clock()
        if self.done < self.total and now - self._last_shown < self.interval:
            return
        self._last_shown = now
        self._show(progress_line(self.done, self.total, self.failed, now - self.started), final=self.done >= self.total)

    def _show(self, line: str, final: bool) -> None:
        if self._tty:
            self.stream.write("\r\x1b[K" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
