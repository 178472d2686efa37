"""The seam between the simulated fleet's transport and its hosts.

The transport (HTTP, WS-Man, auth) hands every WinRS command to ``Fleet.execute`` and asks
``Fleet.connection_policy`` before answering; these are the only types that cross that line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CommandResult:
    """What one WinRS command printed and the exit code it ended with."""

    stdout: bytes
    stderr: bytes
    rc: int


@dataclass
class ConnectionPolicy:
    """How the transport must treat connections to one host right now.

    ``refuse`` closes the listener's door (connection refused), ``drop`` accepts and then drops
    without answering, ``reject_credentials`` answers HTTP 401, and ``slow_seconds`` makes every
    command finish that long after its first Receive, answering the Receives in between with the
    operation-timeout fault that WinRM clients retry.
    """

    refuse: bool = False
    drop: bool = False
    reject_credentials: bool = False
    slow_seconds: float = 0.0
