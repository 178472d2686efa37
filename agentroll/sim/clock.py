"""Clocks for the simulated hosts: the real one, and a fake one tests can move by hand."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Wall time in seconds since the epoch, as the hosts see it."""

    def now(self) -> float:
        """Return the current time in seconds since the epoch."""
        ...


class RealClock:
    """The system's wall clock."""

    def now(self) -> float:
        """Return ``time.time()``."""
        return time.time()


class FakeClock:
    """A clock that only moves when told to, so reboot timing in tests is deterministic."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        # The default start is 2026-01-01T00:00:00Z: recent enough that boot times look real.
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the fake current time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        with self._lock:
            self._now += seconds

    def set(self, when: float) -> None:
        """Jump the clock to ``when`` (seconds since the epoch)."""
        with self._lock:
            self._now = when
