"""Ctrl-C and SIGTERM unwind the caller, so that a running playbook (and a fleet) stop in order."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like Ctrl-C so that every ``finally`` runs."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM handler: unwind through every ``finally``."""
    raise Terminated()


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """Inside: SIGTERM raises ``Terminated`` and SIGINT ``KeyboardInterrupt`` (in the main thread).

    ``run_playbook`` answers either by stopping ansible-playbook before re-raising; without this,
    SIGTERM would end Python at once and leave ansible-playbook running in its own session.
    """
    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, _raise_terminated),
        # Started in the background by a shell, Python inherits SIGINT ignored: Ctrl-C (or kill
        # -INT) must still stop the run in order.
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
