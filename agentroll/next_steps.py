"""What to do next about a PC, in plain words, derived from its state and the structured causes.

A next step is shaped like a reason: a code and its values (``Reason("next_install")``,
``Reason("next_fix_or_release", {"fixes": [{"code": "fix_disk", "drive": "C:", "missing": 1148}]})``),
rendered through the catalogue like any reason (templates in ``agentroll.reasons.TEMPLATES``, codes
``next_*`` and ``fix_*``). The report carries it per PC (``next_step``); every human report shows it.

Every cause of an unreachable PC maps to the action that fixes it (``UNREACHABLE_STEPS``); a cause
without one gets the general "check that it is on and that WinRM answers". A misnamed PC out of
the rename scope (a server without the opt-in, a PC not known to be a workstation) gets a step the
operator takes by hand (``BY_HAND_STEPS``), and is no straggler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from agentroll.model import HostState
from agentroll.reasons import Reason, meaning

#: Cause of an unreachable PC → the next step that fixes it.
UNREACHABLE_STEPS: dict[str, str] = {
    "connection_refused": "next_switch_on_or_enable_winrm",
    "timed_out": "next_switch_on_or_open_firewall",
    "credentials_rejected": "next_check_credentials",
    "connection_dropped": "next_check_network",
    "host_not_found": "next_check_address",
    "certificate_untrusted": "next_trust_certificate",
    "certificate_name_mismatch": "next_fix_certificate_name",
    "wol_no_answer": "next_switch_on_by_hand",
}
#: The step of an unreachable PC whose cause has no entry above.
UNREACHABLE_FALLBACK = "next_check_reachable"
#: Why the plan keeps a misnamed PC's name → what the operator can do, since no run renames it.
OUT_OF_SCOPE_STEPS: dict[str, str] = {
    "rename_server": "next_rename_server_or_by_hand",
    "rename_type_unknown": "next_rename_by_hand",
}
#: Steps that no run of agentroll carries out: a PC whose next step is one of these is no straggler.
BY_HAND_STEPS = frozenset(OUT_OF_SCOPE_STEPS.values())
#: Installer exit codes that mean "try again later" rather than "this PC has a problem".
INSTALLER_BUSY_CODES = frozenset({1618})


def _missing(values: Mapping[str, Any]) -> int:
    return int(values["required"]) - int(values["measured"])


#: Eligibility (or manageability) cause → the fix that lifts it, built from the cause's values.
_FIXES: dict[str, Callable[[Mapping[str, Any]], Reason]] = {
    "ram": lambda v: Reason("fix_ram", {"required": v["required"]}),
    "disk": lambda v: Reason("fix_disk", {"drive": v["drive"], "missing": _missing(v)}),
    "system_drive_space": lambda v: Reason("fix_system_disk", {"missing": _missing(v)}),
    "os": lambda v: Reason("fix_os", {"supported": v["supported"]}),
    "os_build": lambda v: Reason("fix_os_build", {"required": v["required"]}),
    "architecture": lambda v: Reason("fix_architecture", {"required": v["required"]}),
    "powershell": lambda v: Reason("fix_powershell", {"required": v["required"]}),
    "powershell_too_old": lambda v: Reason("fix_powershell", {"required": v["required"]}),
    "unknown_fact": lambda v: Reason("fix_unknown_fact", {"fact": v["fact"]}),
}


def next_step(state: str, causes: Sequence[Any]) -> Reason | None:
    """The one thing to do next about a PC in ``state`` with ``causes`` (reasons or their JSON forms).

    None for a compliant PC: nothing is left to do.
    """
    reasons = [meaning(Reason.from_value(cause)) for cause in causes]
    interrupted = _find(reasons, "interrupted")
    if interrupted is not None:
        return Reason("next_interrupted", {"step": interrupted.values.get("step", "install")})
    match HostState(state):
        case HostState.COMPLIANT:
            return None
        case HostState.UNKNOWN:
            return Reason("next_first_run")
        case HostState.UNREACHABLE:
            code = reasons[0].code if reasons else ""
            return Reason(UNREACHABLE_STEPS.get(code, UNREACHABLE_FALLBACK))
        case HostState.INELIGIBLE:
            return _fix_or_release(reasons) or Reason("next_release")
        case HostState.UNMANAGEABLE:
            return _fix_or_release(reasons) or Reason("next_enable_remote_management")
        case HostState.FAILED:
            return _after_failure(reasons)
        case HostState.REBOOT_PENDING:
            renaming = _find(reasons, "reboot_rename") is not None
            return Reason("next_reboot_rename" if renaming else "next_reboot")
        case HostState.MISNAMED:
            return _rename_step(reasons)
        case HostState.AGENT_UNHEALTHY:
            server = _find(reasons, "server_unreachable")
            if server is not None:
                return Reason("next_open_server", {"server": server.values.get("server", "")})
            if _find(reasons, "agent_silent") is not None:
                return Reason("next_check_registration")
            return Reason("next_start_service")
        case _:  # not_installed, the one state left
            waiting = _find(reasons, "license_waiting")
            if waiting is not None:
                return Reason("next_wait_license", {"unit": waiting.values.get("unit", "")})
            return Reason("next_install")


def _find(reasons: Iterable[Reason], code: str) -> Reason | None:
    """The first reason with ``code``, looking inside a failed step's error too."""
    for reason in reasons:
        if reason.code == code:
            return reason
        error = reason.values.get("error")
        if isinstance(error, Mapping) and meaning(Reason.from_value(error)).code == code:
            return meaning(Reason.from_value(error))
    return None


def _fix_or_release(reasons: Iterable[Reason]) -> Reason | None:
    """The fixes that would make the PC take the agent, or None when no cause has a known fix."""
    fixes = []
    for reason in reasons:
        build = _FIXES.get(reason.code)
        if build is None:
            continue
        try:
            fix = build(reason.values).as_value()
        except (KeyError, TypeError, ValueError):
            continue  # a cause recorded without its values: no fix can be worded
        if fix not in fixes:
            fixes.append(fix)
    return Reason("next_fix_or_release", {"fixes": fixes}) if fixes else None


def _rename_step(reasons: Iterable[Reason]) -> Reason:
    """The next run renames a misnamed PC, unless the plan put it out of the rename scope."""
    for reason in reasons:
        step = OUT_OF_SCOPE_STEPS.get(reason.code)
        if step is not None:
            return Reason(step, dict(reason.values))
    return Reason("next_rename")


def _after_failure(reasons: Sequence[Reason]) -> Reason:
    """After a failed step: by the installer's exit code, a reboot that never ended, or the error."""
    installer = _find(reasons, "installer_exit_code")
    if installer is not None:
        exit_code = installer.values.get("exit_code")
        if exit_code in INSTALLER_BUSY_CODES:
            return Reason("next_installer_busy")
        return Reason("next_installer_failed", {"exit_code": exit_code})
    if _find(reasons, "reboot_timeout") is not None:
        return Reason("next_check_on_site")
    if _find(reasons, "details_hidden") is not None:
        step = reasons[0].values.get("step", "") if reasons else ""
        return Reason("next_read_log", {"step": step})
    return Reason("next_fix_error")
