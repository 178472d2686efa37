"""A per-host record of every invocation, with secrets removed, for tests and the control API."""

from __future__ import annotations

import re
import threading
from typing import Any

REDACTED = "********"
_SECRET_KEY = re.compile(r"password|passwd|secret|token|key", re.IGNORECASE)
#: ``NAME=value`` inside a string (e.g. installer arguments carrying a registration key).
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<name>[\w.-]*(?:password|passwd|secret|token|key)[\w.-]*)(?P<sep>\s*[=:]\s*)(?P<value>\"[^\"]*\"|'[^']*'|\S+)",
    re.IGNORECASE,
)


def redact(value: Any) -> Any:
    """Return ``value`` with every secret-looking key's value replaced by ``REDACTED``.

    Strings keep their shape but lose the values of ``NAME=value`` pairs whose name looks secret
    (``arguments: /qn REGKEY=abc`` → ``/qn REGKEY=********``).
    """
    if isinstance(value, dict):
        if value.get("_ansible_no_log"):
            return REDACTED
        return {k: REDACTED if _is_secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return _SECRET_ASSIGNMENT.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", value)
    return value


def _is_secret_key(key: Any) -> bool:
    """Whether a dictionary key names a secret."""
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


class Journal:
    """The ordered list of invocations one host has answered."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(
        self,
        *,
        time: float,
        kind: str,
        module: str | None,
        args: dict[str, Any] | None,
        no_log: bool,
        changed: bool,
        failed: bool,
        rc: int,
        duration_ms: float,
        mutated: bool,
    ) -> dict[str, Any]:
        """Append one invocation; args are redacted, or left out entirely under no_log."""
        with self._lock:
            entry: dict[str, Any] = {
                "seq": len(self._entries) + 1,
                "time": time,
                "kind": kind,
                "module": module,
                "args": None if no_log or args is None else redact(_public_args(args)),
                "no_log": no_log,
                "changed": changed,
                "failed": failed,
                "rc": rc,
                "duration_ms": round(duration_ms, 3),
                "mutated": mutated,
            }
            self._entries.append(entry)
            return dict(entry)

    def entries(self) -> list[dict[str, Any]]:
        """Return a copy of every entry, oldest first."""
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        """Forget every entry (seq restarts at 1)."""
        with self._lock:
            self._entries.clear()


def _public_args(args: dict[str, Any]) -> dict[str, Any]:
    """Drop Ansible's internal ``_ansible_*`` keys: they are noise in a journal."""
    return {k: v for k, v in args.items() if not str(k).startswith("_ansible_")}
