"""What every handler shares: the module registry, argument checking, and result shapes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentroll.sim.decoder import ModuleRun
from agentroll.sim.host import SimHost

ModuleResult = dict[str, Any]
#: A handler gets the host (locked), the decoded run and the validated params with defaults.
ModuleHandler = Callable[[SimHost, ModuleRun, dict[str, Any]], ModuleResult]

#: Prefixes under which Ansible may name a Windows module (the resolved FQCN is what arrives).
_MODULE_NAMESPACES = ("ansible.windows", "ansible.builtin", "ansible.legacy")


@dataclass(frozen=True)
class ModuleSpec:
    """The options one module accepts, as its Ansible.Basic spec would declare them."""

    options: dict[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    supports_check_mode: bool = True
    #: Legacy (Parse-Args) modules ignore options they do not know; Ansible.Basic ones fail.
    strict: bool = True


@dataclass(frozen=True)
class RegisteredModule:
    """A handler and the spec it is called with."""

    name: str
    handler: ModuleHandler
    spec: ModuleSpec


_REGISTRY: dict[str, RegisteredModule] = {}


class ModuleFailure(Exception):
    """Raised by a handler to fail the module run, like Ansible.Basic's ``FailJson``."""

    def __init__(self, msg: str, **result: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result


def module_handler(
    short_name: str, spec: ModuleSpec, *, namespaces: Iterable[str] = _MODULE_NAMESPACES
) -> Callable[[ModuleHandler], ModuleHandler]:
    """Register a handler under every FQCN Ansible may send for ``short_name``."""

    def register(handler: ModuleHandler) -> ModuleHandler:
        entry = RegisteredModule(short_name, handler, spec)
        for namespace in namespaces:
            _REGISTRY[f"{namespace}.{short_name}"] = entry
        return handler

    return register


def find_module(fqcn: str) -> RegisteredModule | None:
    """Return the registered handler for a module FQCN, or None."""
    return _REGISTRY.get(fqcn)


def registered_modules() -> list[str]:
    """Return every FQCN with a handler, sorted."""
    return sorted(_REGISTRY)


def module_params(run: ModuleRun, module: RegisteredModule) -> dict[str, Any]:
    """Validate the run's args against the spec and return them with defaults filled in.

    Unknown and missing options fail with Ansible.Basic's own wording so that a toolkit bug
    shows up in the simulator as it would on a real PC.
    """
    public = {k: v for k, v in run.args.items() if not k.startswith("_ansible_")}
    allowed = set(module.spec.options)
    unknown = sorted(k for k in public if k not in allowed)
    if unknown and module.spec.strict:
        raise ModuleFailure(
            f"Unsupported parameters for ({module.name}) module: {', '.join(unknown)}. "
            f"Supported parameters include: {', '.join(sorted(allowed))}"
        )
    missing = sorted(k for k in module.spec.required if public.get(k) is None)
    if missing:
        raise ModuleFailure(f"missing required arguments: {', '.join(missing)}")
    params = {**module.spec.options, **public}
    for name, choices in module.spec.choices.items():
        value = params.get(name)
        if value is not None and value not in choices:
            raise ModuleFailure(
                f"value of {name} must be one of: {', '.join(map(str, choices))}, got: {value}"
            )
    return params


def as_bool(value: Any) -> bool:
    """Interpret an Ansible boolean option ('yes', 'true', 1, ...)."""
    if isinstance(value, str):
        return value.strip().lower() in ("yes", "true", "on", "1", "y", "t")
    return bool(value)


def as_int_list(value: Any) -> list[int]:
    """Interpret a list-of-int option given as a list, a number or a comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        # Tolerates "0,3010" as well as a list that reached us as its text form "[0, 3010]".
        return [int(number) for number in re.findall(r"-?\d+", value)]
    if isinstance(value, list):
        return [int(part) for part in value]
    return [int(value)]


def json_line(value: Any) -> bytes:
    """Serialise a result the way the exec wrapper prints it: one JSON document and CRLF."""
    return json.dumps(value, separators=(",", ":")).encode() + b"\r\n"


def windows_datetime(epoch_seconds: float) -> str:
    """Format a time like PowerShell's ``Get-Date -Format 'yyyy-MM-dd HH:mm:ss.ffffff'``."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def filetime(epoch_seconds: float) -> int:
    """Convert Unix time to a Windows FILETIME (100 ns ticks since 1601-01-01)."""
    return round((epoch_seconds + 11_644_473_600) * 10_000_000)
