"""Progress of long runs, shown on stderr while a person watches.

A progress callback is any callable ``progress(done, total, label)``: ``done`` units of
work out of ``total`` are finished (``total`` is ``None`` when unknown), ``label`` says in a
few words which unit just finished (``"k = 4"``, ``"T = 0.5"``). Solvers and models take
such a callback as an optional argument and never print themselves.

:class:`Reporter` is the callback the command line passes down. It draws one
self-overwriting status line (``\\r``, throttled, with an estimate of the time left) only
when its stream is a terminal; on a file or a pipe, and when disabled (``--quiet``), the
status line is never written. Lines meant to stay (:meth:`Reporter.log`, e.g. one per
epoch of a scan) are written whole, without carriage returns, wherever the stream goes,
unless disabled.

Hand-written rather than tqdm: one status line with an ETA is all the commands need, it
keeps the core dependencies as they are, and tqdm writes carriage returns to files unless
configured not to.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TextIO, TypeVar

__all__ = ["ProgressCallback", "Reporter", "is_terminal", "reported"]

T = TypeVar("T")


class ProgressCallback(Protocol):
    """``progress(done, total, label)``: ``done`` of ``total`` units finished."""

    def __call__(self, done: int, total: int | None, label: str = "") -> None: ...


def is_terminal(stream: object) -> bool:
    """Whether ``stream`` is an interactive terminal (False for anything that cannot say)."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


class Reporter:
    """A progress callback that draws one status line on a terminal.

    Args:
        what: the first word(s) of the line, e.g. ``"sweep"``.
        enabled: False (``--quiet``) writes nothing at all.
        stream: where to write; ``sys.stderr`` (as it is when the reporter is made) by
            default. Status lines are only drawn when it is a terminal.
        base: units already done before this run (e.g. points reused from a file): the
            time-left estimate uses only the rate of the units done here.
        interval: seconds between redraws (the final count is always drawn).

    Use as a context manager, or call :meth:`close`, to end the status line with a newline.
    Write errors (a terminal that went away) switch the reporter off; they never fail a run.
    """

    def __init__(self, what: str, *, enabled: bool = True, stream: TextIO | None = None,
                 base: int = 0, interval: float = 0.2) -> None:
        self.what = what
        self.stream = sys.stderr if stream is None else stream
        self.enabled = bool(enabled)
        self.live = self.enabled and is_terminal(self.stream)
        self.base = base
        self.interval = interval
        self.start = time.monotonic()
        self._last = -math.inf
        self._width = 0  # characters of the status line on screen (0: none)
        self._pending: str | None = None  # the latest text, when throttled away

    # -------------------------------------------------------------- the callback

    def __call__(self, done: int, total: int | None = None, label: str = "") -> None:
        if not self.live:
            return
        elapsed = time.monotonic() - self.start
        text = f"{self.what}: {done}/{total}" if total else f"{self.what}: {done}"
        if label:
            text += f" {label}"
        text += f" [{elapsed:.0f} s"
        work = done - self.base
        if total and 0 < work and done < total:
            text += f", about {elapsed / work * (total - done):.0f} s left"
        self.show(text + "]", force=bool(total) and done >= total)

    def due(self) -> bool:
        """Whether a status line would be drawn now (lets a caller skip computing an
        expensive label); always False off a terminal."""
        return self.live and time.monotonic() - self._last >= self.interval

    def show(self, text: str, force: bool = False) -> None:
        """Draw ``text`` as the status line (at most every ``interval`` seconds unless
        ``force``); nothing off a terminal."""
        if not self.live:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            self._pending = text
            return
        self._last = now
        self._pending = None
        cols = shutil.get_terminal_size((80, 24)).columns - 1
        if len(text) > cols > 3:  # a wrapped line cannot be overwritten by \r
            text = text[: cols - 3] + "..."
        pad = max(0, self._width - len(text))
        if self._write("\r" + text + " " * pad):
            self._width = len(text)

    def log(self, text: str) -> None:
        """A line that stays: over the status line on a terminal, as a plain line elsewhere;
        nothing when disabled."""
        if not self.enabled:
            return
        self.clear()
        self._write(text + "\n")

    def close(self) -> None:
        """End the status line (the latest text drawn, then a newline)."""
        if self._pending is not None:
            self.show(self._pending, force=True)
        if self._width:
            self._write("\n")
            self._width = 0

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def clear(self) -> None:
        """Erase the status line (the next output starts at the beginning of the line)."""
        self._pending = None
        if self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0

    # -------------------------------------------------------------- internals

    def _write(self, text: str) -> bool:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or vanished terminal: stop, quietly
            self.enabled = self.live = False
            self._width = 0
            return False
        return True


def reported(items: Iterable[T], total: int | None,
             progress: ProgressCallback | None,
             label: Callable[[T], str] = lambda item: "") -> Iterator[T]:
    """Yield ``items`` and call ``progress(i, total, label(item))`` after the i-th."""
    for i, item in enumerate(items, 1):
        yield item
        if progress is not None:
            progress(i, total, label(item))
