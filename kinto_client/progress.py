"""A one-line progress display for the command-line tools.

It writes to a terminal only: when its stream is not a TTY (a pipe, a file,
a CI log) or the user asked for ``-q``, it draws nothing, so scripts and
logs never receive carriage returns. Redraws are throttled (ten per second
at most) so a fast copy spends no time on the display.

>>> import io
>>> with Progress("Copying", total=3, stream=io.StringIO()) as progress:
...     progress.advance(3)
>>> progress.done
3
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress", "format_duration", "is_interactive"]


def is_interactive(stream: TextIO) -> bool:
    """True when ``stream`` is an open terminal (``isatty()``)."""
    try:
        return not stream.closed and stream.isatty()
    except (AttributeError, ValueError):
        return False


def format_duration(seconds: float) -> str:
    """``0.42s``, ``12.3s``, ``4m05s``, ``2h03m``."""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Count items done and show ``label: done/total unit (pct%), rate unit/s``.

    :param label: what is being done, e.g. ``"Replicating"``.
    :param total: how many items are expected, if known (``None``: no
        percentage, just the count and the rate).
    :param stream: where to draw (default: ``sys.stderr``).
    :param enabled: force drawing on or off; by default it is on only when
        ``stream`` is a terminal.
    :param unit: the items' name, plural (``"records"``).
    :param interval: the minimum number of seconds between two redraws.

    Use it as a context manager, or call :meth:`finish` at the end: the last
    state is drawn and the line ended, so later messages start on a new line.
    The counters (:attr:`done`, :attr:`elapsed`, :attr:`rate`) work even when
    nothing is drawn.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        unit: str = "records",
        interval: float = 0.1,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_interactive(self.stream) if enabled is None else enabled
        self.interval = interval
        self.done = 0
        self._started = time.monotonic()
        self._last_draw: float | None = None
        self._width = 0
        self._drawn_done: int | None = None
        self._finished = False

    def __repr__(self) -> str:
        total = "?" if self.total is None else self.total
        return f"<Progress {self.label!r} {self.done}/{total}>"

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish()

    @property
    def elapsed(self) -> float:
        """Seconds since the progress started."""
        return time.monotonic() - self._started

    @property
    def rate(self) -> float:
        """Items per second so far."""
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items done, and redraw if it is time to."""
        self.done += count
        if self.total is not None and self.done > self.total:
            self.total = self.done  # the source grew during the copy
        now = time.monotonic()
        if self._last_draw is None or now - self._last_draw >= self.interval:
            self._draw(now)

    def finish(self) -> None:
        """Draw the final state and end the line (once; later calls do nothing)."""
        if self._finished:
            return
        self._finished = True
        if self.enabled and (self._last_draw is not None or self.done):
            if self._drawn_done != self.done:
                self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()

    def line(self) -> str:
        """The text of the display for the current state."""
        if self.total:
            percent = 100 * self.done / self.total
            count = f"{self.done}/{self.total} {self.unit} ({percent:.0f}%)"
        else:
            count = f"{self.done} {self.unit}"
        return f"{self.label}: {count}, {self.rate:.0f} {self.unit}/s"

    def _draw(self, now: float) -> None:
        self._last_draw = now
        if not self.enabled:
            return
        self._drawn_done = self.done
        text = self.line()
        padding = " " * max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write("\r" + text + padding)
        self.stream.flush()
