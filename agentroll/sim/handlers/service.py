"""win_service and win_service_info over the host's service table."""

from __future__ import annotations

from typing import Any

from agentroll.sim.decoder import ModuleRun
from agentroll.sim.handlers.base import ModuleFailure, ModuleResult, ModuleSpec, module_handler
from agentroll.sim.host import Service, SimHost

_SERVICE_OPTIONS = [
    "dependencies",
    "dependency_action",
    "description",
    "desktop_interact",
    "display_name",
    "error_control",
    "failure_actions",
    "failure_actions_on_non_crash_failure",
    "failure_command",
    "failure_reboot_msg",
    "failure_reset_period_sec",
    "failure_reset_period",
    "force_dependent_services",
    "load_order_group",
    "name",
    "password",
    "path",
    "pre_shutdown_timeout_ms",
    "pre_shutdown_timeout",
    "required_privileges",
    "service_type",
    "sid_info",
    "start_mode",
    "state",
    "update_password",
    "username",
]

_SERVICE_SPEC = ModuleSpec(
    options={**dict.fromkeys(_SERVICE_OPTIONS), "dependency_action": "set", "desktop_interact": False},
    required=frozenset({"name"}),
    choices={
        "state": ("started", "stopped", "restarted", "absent", "paused"),
        "start_mode": ("auto", "manual", "disabled", "delayed"),
    },
)


@module_handler("win_service", _SERVICE_SPEC)
def win_service(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Change a service's state and start mode; starting honours the service_wont_start fault."""
    name = str(params["name"])
    service = host.find_service(name)
    state = params["state"]
    if service is None:
        return _missing_service(host, name, params, run.check_mode)
    if state == "absent":
        if not run.check_mode:
            del host.services[service.name.lower()]
        return {"changed": True, "exists": False}
    changed = _apply_start_mode(service, params["start_mode"], run.check_mode)
    changed = _apply_display_name(service, params["display_name"], run.check_mode) or changed
    changed = _apply_state(host, service, state, run.check_mode) or changed
    result = service_result(service)
    if run.check_mode and state in ("started", "restarted"):
        result["state"] = "running"
    elif run.check_mode and state == "stopped":
        result["state"] = "stopped"
    return {"changed": changed, **result}


def _missing_service(host: SimHost, name: str, params: dict[str, Any], check_mode: bool) -> ModuleResult:
    """A service that does not exist: absent is a no-op, a path creates it, anything else fails."""
    if params["state"] == "absent":
        return {"changed": False, "exists": False}
    if params["path"] is None:
        raise ModuleFailure(f"Service '{name}' is not installed, need to set 'path' to create a new service")
    service = Service(
        name=name,
        display_name=str(params["display_name"] or name),
        start_mode=_normalise_start_mode(params["start_mode"] or "auto"),
        path=str(params["path"]),
        description=str(params["description"] or ""),
    )
    if not check_mode:
        host.add_service(service)
        _apply_state(host, service, params["state"], check_mode=False)
    return {"changed": True, **service_result(service)}


def _normalise_start_mode(start_mode: str) -> str:
    """Map win_service's ``delayed`` (delayed auto-start) onto the model's ``auto``."""
    return "auto" if start_mode == "delayed" else start_mode


def _apply_start_mode(service: Service, start_mode: str | None, check_mode: bool) -> bool:
    """Set the start mode; return whether it changed."""
    if start_mode is None or _normalise_start_mode(start_mode) == service.start_mode:
        return False
    if not check_mode:
        service.start_mode = _normalise_start_mode(start_mode)
    return True


def _apply_display_name(service: Service, display_name: str | None, check_mode: bool) -> bool:
    """Set the display name; return whether it changed."""
    if display_name is None or display_name == service.display_name:
        return False
    if not check_mode:
        service.display_name = display_name
    return True


def _apply_state(host: SimHost, service: Service, state: str | None, check_mode: bool) -> bool:
    """Start, stop or restart the service; return whether its state changed."""
    if state in (None, "paused"):
        return False
    if state == "stopped":
        if service.state == "stopped":
            return False
        if not check_mode:
            service.state = "stopped"
        return True
    if state == "started" and service.state == "running":
        return False
    if check_mode:
        return True
    if service.start_mode == "disabled" or host.faults.service_wont_start:
        service.state = "stopped"
        raise ModuleFailure(_start_error(service), changed=state == "restarted")
    service.state = "running"
    return True


def _start_error(service: Service) -> str:
    """The error Start-Service raises when a service cannot start."""
    reason = (
        "The service cannot be started, either because it is disabled or because it has no enabled devices "
        "associated with it."
        if service.start_mode == "disabled"
        else f"Cannot start service {service.name} on computer '.'."
    )
    return (
        f"Unhandled exception while executing module: Service '{service.display_name} ({service.name})' "
        f"cannot be started due to the following error: {reason}"
    )


def service_result(service: Service) -> dict[str, Any]:
    """Return the keys win_service documents for an existing service."""
    return {
        "exists": True,
        "name": service.name,
        "display_name": service.display_name,
        "state": service.state,
        "start_mode": service.start_mode,
        "path": service.path,
        "description": service.description,
        "username": service.username,
        "desktop_interact": False,
        "dependencies": [],
        "depended_by": [],
        "can_pause_and_continue": False,
    }


@module_handler("win_service_info", ModuleSpec(options={"name": None}))
def win_service_info(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """List one service (by name or display name) or all of them."""
    name = params["name"]
    if name:
        found = host.find_service(str(name))
        services = [found] if found is not None else []
    else:
        services = sorted(host.services.values(), key=lambda s: s.name.lower())
    return {"changed": False, "exists": bool(services), "services": [service_info(s) for s in services]}


def service_info(service: Service) -> dict[str, Any]:
    """Return one entry of win_service_info's ``services`` list."""
    running = service.state == "running"
    return {
        "checkpoint": 0,
        "controls_accepted": ["stop", "shutdown"] if running else [],
        "dependencies": [],
        "dependency_of": [],
        "description": service.description,
        "desktop_interact": False,
        "display_name": service.display_name,
        "error_control": "normal",
        "failure_actions": [],
        "failure_actions_on_non_crash_failure": False,
        "failure_command": None,
        "failure_reboot_msg": None,
        "failure_reset_period_sec": 0,
        "launch_protection": "none",
        "load_order_group": "",
        "name": service.name,
        "path": service.path,
        "pre_shutdown_timeout_ms": 180000,
        "preferred_node": None,
        "process_id": 4242 if running else 0,
        "required_privileges": [],
        "service_exit_code": 0,
        "service_flags": [],
        "service_type": "win32_own_process",
        "sid_info": "none",
        "start_mode": service.start_mode,
        # win_service_info names a running service "started" (win_service says "running").
        "state": "started" if running else "stopped",
        "triggers": [],
        "username": service.username,
        "wait_hint_ms": 0,
        "win32_exit_code": 0 if running or not service.product_id else 1077,
    }
