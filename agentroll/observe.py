"""Turn one result of the host probe module into observations (shapes in docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentroll.eligibility import Requirements, evaluate, normalize_architecture, os_family
from agentroll.model import Aspect, ContactStatus

#: A product type the probe could not read (or one this mapping does not know): kept as unknown,
#: never taken for a workstation; the OS family then goes by the caption (``os_family``).
UNKNOWN_PRODUCT_TYPE = "unknown"
_PRODUCT_TYPES = {
    "workstation": "workstation",
    "1": "workstation",
    "server": "server",
    "3": "server",
    "domain_controller": "domain_controller",
    "domaincontroller": "domain_controller",
    "2": "domain_controller",
}
# Windows spells service states in several ways; anything that is not running counts as stopped.
_SERVICE_STATES = {"running": "running", "missing": "missing", "stopped": "stopped"}
_START_MODES = {
    "auto": "auto",
    "automatic": "auto",
    "automaticdelayedstart": "auto",
    "delayed-auto": "auto",
    "manual": "manual",
    "demand": "manual",
    "disabled": "disabled",
}


def _int_or_none(value: Any) -> int | None:
    """An integer from a probe field (int, float or numeric string), or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(str(value)))
        except ValueError:
            return None


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def facts_from_probe(probe: Mapping[str, Any]) -> dict[str, Any]:
    """The ``facts`` observation value, with ``os_family`` computed from caption, build and type."""
    caption = _str_or_none(probe.get("os_caption"))
    build = _int_or_none(probe.get("os_build"))
    raw_type = str(probe.get("product_type") or "").strip().lower()
    product_type = _PRODUCT_TYPES.get(raw_type, UNKNOWN_PRODUCT_TYPE)
    architecture = _str_or_none(probe.get("architecture"))
    return {
        "os_caption": caption,
        "os_build": build,
        "os_family": os_family(caption or "", build or 0, product_type),
        "product_type": product_type,
        "architecture": normalize_architecture(architecture) if architecture else None,
        "ram_mb": _int_or_none(probe.get("ram_mb")),
        "system_drive": _str_or_none(probe.get("system_drive")),
        "system_size_mb": _int_or_none(probe.get("system_size_mb")),
        "system_free_mb": _int_or_none(probe.get("system_free_mb")),
        "powershell_version": _str_or_none(probe.get("powershell_version")),
    }


def agent_from_probe(probe: Mapping[str, Any]) -> dict[str, Any]:
    """The ``agent`` observation value from the probe's ``agent`` sub-result."""
    agent = probe.get("agent") or {}
    raw_state = _str_or_none(agent.get("service_state"))
    raw_mode = _str_or_none(agent.get("service_start_mode"))
    service_state = None if raw_state is None else _SERVICE_STATES.get(raw_state.lower(), "stopped")
    return {
        "installed": bool(agent.get("installed")),
        "version": _str_or_none(agent.get("version")),
        "service_name": _str_or_none(agent.get("service_name")),
        "service_state": service_state,
        "start_mode": None if raw_mode is None else _START_MODES.get(raw_mode.lower()),
    }


def name_from_probe(probe: Mapping[str, Any]) -> dict[str, Any]:
    """The ``name`` observation value."""
    return {
        "computer_name": _str_or_none(probe.get("computer_name")),
        "pending_name": _str_or_none(probe.get("pending_computer_name")),
    }


def reboot_from_probe(probe: Mapping[str, Any]) -> dict[str, Any]:
    """The ``reboot`` observation value; several reasons are joined with "; "."""
    reasons = [str(reason) for reason in probe.get("reboot_pending_reasons") or () if reason]
    pending = bool(probe.get("reboot_pending"))
    return {"pending": pending, "reason": "; ".join(reasons) if pending and reasons else None}


def observations_from_probe(
    probe: Mapping[str, Any], requirements: Requirements | None = None
) -> list[tuple[Aspect, dict[str, Any]]]:
    """All observations one successful probe yields; eligibility too when requirements are given."""
    facts = facts_from_probe(probe)
    observations: list[tuple[Aspect, dict[str, Any]]] = [
        (Aspect.CONTACT, {"status": ContactStatus.OK.value, "reason": None}),
        (Aspect.FACTS, facts),
        (Aspect.AGENT, agent_from_probe(probe)),
        (Aspect.NAME, name_from_probe(probe)),
        (Aspect.REBOOT, reboot_from_probe(probe)),
    ]
    if requirements is not None:
        observations.append((Aspect.ELIGIBILITY, evaluate(requirements, facts).as_value()))
    return observations
