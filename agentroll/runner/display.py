"""A run's progress on screen: one updating line on a terminal, a line every few seconds otherwise."""

from __future__ import annotations

import shutil
import time
from typing import TextIO


class ProgressLine:
    """One updating line on a terminal; a line every ``interval`` seconds otherwise (CI logs, pipes)."""

    def __init__(self, out: TextIO, interval: float = 5.0) -> None:
        self.out = out
        self.tty = out.isatty()
        self.interval = interval
        self._last_print: float | None = None  # the first update is always shown
        self._width = 0

    def update(self, text: str) -> None:
        """Show the current state of the run."""
        if self.tty:
            line = text[: shutil.get_terminal_size().columns - 1]
            self.out.write("\r" + line.ljust(self._width))
            self._width = len(line)
            self.out.flush()
        elif self._last_print is None or time.monotonic() - self._last_print >= self.interval:
            self._last_print = time.monotonic()
            self.out.write(text + "\n")
            self.out.flush()

    def done(self, text: str) -> None:
        """Replace the updating line with the run's final line."""
        if self.tty:
            self.out.write("\r" + " " * self._width + "\r")
        self.out.write(text + "\n")
        self.out.flush()
        self._width = 0
        self._last_print = None


def duration(seconds: float) -> str:
    """``3 min 07 s`` or ``42 s``."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
