"""A stand-in fleet for transport tests until ``agentroll.sim.fleet`` answers modules."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from agentroll.sim.types import CommandResult, ConnectionPolicy


@dataclass
class FakeFleet:
    """Answers every command as win_ping would and records what it ran."""

    hosts: list[str]
    username: str = "agentroll"
    password: str = "Secr3t!"
    tls: bool = False
    policies: dict[str, ConnectionPolicy] = field(default_factory=dict)
    journals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def addresses(self) -> list[str]:
        """Return the host addresses."""
        return list(self.hosts)

    def credentials_for(self, address: str) -> tuple[str, str]:
        """Return the fleet-wide credential."""
        return self.username, self.password

    def connection_policy(self, address: str) -> ConnectionPolicy:
        """Return the host's faults as a policy."""
        return self.policies.get(address, ConnectionPolicy())

    def set_faults(self, address: str, **faults: Any) -> None:
        """Set connection faults."""
        policy = self.policies.setdefault(address, ConnectionPolicy())
        mapping = {"refuse_connections": "refuse", "drop_connections": "drop"}
        for name, value in faults.items():
            setattr(policy, mapping.get(name, name), value)

    def journal(self, address: str) -> list[dict[str, Any]]:
        """Return the commands the host ran."""
        return list(self.journals.get(address, []))

    def execute(self, address: str, command_line: str, stdin: bytes) -> CommandResult:
        """Answer like win_ping."""
        with self.lock:
            self.journals.setdefault(address, []).append({"command": command_line[:40], "stdin": len(stdin)})
        return CommandResult(json.dumps({"changed": False, "ping": "pong"}).encode(), b"", 0)
