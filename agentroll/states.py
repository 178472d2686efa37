"""Derive a host's state from its latest observations (the precedence in docs/architecture.md).

First match wins: no observation → unknown; latest contact unreachable → unreachable; latest
contact unmanageable → unmanageable; a failure from the host's latest run → failed; a step the
latest run started but never heard back from (Ctrl-C during the install) → failed; agent
installed: reboot pending → reboot_pending, service not running or (the probe's check-in) the
management server unreachable from the PC, or the agent's own last contact with it more than
``stale_days`` before that probe → agent_unhealthy, computer name
(or pending name) != standard name → misnamed (with the plan's reason when the name is out of the
rename scope), else compliant; agent not installed: not eligible
→ ineligible, else not_installed (a refused license is a reason, not a state).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agentroll.eligibility import Eligibility
from agentroll.model import (
    DEFAULT_CONSOLE_STALE_DAYS,
    Aspect,
    Assessment,
    ContactStatus,
    HostState,
    HostView,
    Observation,
)
from agentroll.naming import is_correctly_named
from agentroll.reasons import Reason, reboot_cause

#: An older store keeps several reboot causes in one string, joined with this.
_JOINED_CAUSES = "; "


def is_installed(view: HostView) -> bool:
    """Tell whether the host's latest agent observation says the agent is installed."""
    return agent_installed(view.value(Aspect.AGENT))


def agent_installed(agent: Mapping[str, Any] | None) -> bool:
    """Tell whether an ``agent`` observation's value says the agent is installed."""
    return bool(agent and agent.get("installed"))


def _reason(value: Mapping[str, Any] | None) -> tuple[Reason, ...]:
    """The observation's ``reason`` as a one-element tuple, or () when it has none."""
    reason = (value or {}).get("reason")
    return (Reason.from_value(reason),) if reason else ()


def _current_failure(view: HostView) -> dict[str, Any] | None:
    """The failure observation, but only when it belongs to the host's latest run."""
    failure = view.latest.get(Aspect.FAILURE)
    if failure is None or failure.run_id != view.last_run_id:
        return None
    return failure.value


def _failure_reason(failure: Mapping[str, Any]) -> Reason:
    """The failed step and its error; a free task name is kept as the step."""
    step, error = failure.get("task"), failure.get("reason")
    if step and error:
        return Reason("step_failed", {"step": str(step), "error": Reason.from_value(error).as_value()})
    if step:
        return Reason("step_failed_silently", {"step": str(step)})
    return Reason.from_value(error) if error else Reason("unknown_failure")


def _interrupted_step(view: HostView) -> str | None:
    """The step the host's latest run started but never heard back from, if any."""
    step = view.latest.get(Aspect.STEP)
    if step is None or step.run_id != view.last_run_id or step.value.get("status") != "started":
        return None
    return str(step.value.get("step") or "a step")


def _service_problem(agent: Mapping[str, Any]) -> Reason | None:
    """Why the agent's service is not running, or None when it runs."""
    state = agent.get("service_state")
    if state == "running":
        return None
    problem = {None: "service_state_unknown", "missing": "service_missing"}.get(state, "service_stopped")
    service = agent.get("service_name")
    return Reason(problem, {"service": service}) if service else Reason(f"agent_{problem}")


def _name_problem(view: HostView, standard_name: str | None) -> Reason | None:
    """Why the computer name is not the standard name, or None when it is (or no standard exists)."""
    if standard_name is None:
        return None
    name = view.value(Aspect.NAME) or {}
    pending, current = name.get("pending_name"), name.get("computer_name")
    # A rename waiting for its reboot counts: the PC will come back with the pending name.
    if pending:
        if is_correctly_named(pending, standard_name):
            return None
        return Reason("pending_name_mismatch", {"pending_name": pending, "standard_name": standard_name})
    if current is None:
        return Reason("name_unknown", {"standard_name": standard_name})
    if is_correctly_named(current, standard_name):
        return None
    return Reason("name_mismatch", {"computer_name": current, "standard_name": standard_name})


def _rename_withheld(view: HostView) -> tuple[Reason, ...]:
    """Why the latest plan left the PC's name as it is (out of the rename scope), or () when a run
    may rename it or no plan judged it yet."""
    scope = view.value(Aspect.RENAME_SCOPE) or {}
    withheld = scope.get("withheld")
    return (Reason.from_value(withheld),) if withheld else ()


def _reboot_causes(reboot: Mapping[str, Any]) -> tuple[Reason, ...]:
    """Why a reboot is pending: a reason, a list of them, or an older store's joined causes."""
    cause = reboot.get("reason")
    if not cause:
        return (Reason("reboot_pending"),)
    if isinstance(cause, str):
        return tuple(reboot_cause(words) for words in cause.split(_JOINED_CAUSES) if words.strip())
    if isinstance(cause, list):
        return tuple(Reason.from_value(item) for item in cause) or (Reason("reboot_pending"),)
    return (Reason.from_value(cause),)


def _current_checkin(view: HostView) -> Observation | None:
    """Every probe records facts; a check-in older than the latest facts belongs to an earlier probe
    (the profile no longer names a server) and says nothing any more."""
    checkin, facts = view.latest.get(Aspect.CHECKIN), view.latest.get(Aspect.FACTS)
    if checkin is None or (facts is not None and checkin.observed_at < facts.observed_at):
        return None
    return checkin


def current_checkin(view: HostView) -> dict[str, Any] | None:
    """The agent's check-in from the PC's latest probe, or None when that probe did not check it."""
    checkin = _current_checkin(view)
    return checkin.value if checkin else None


def agent_silence(view: HostView) -> tuple[datetime, int] | None:
    """When the latest probe read the agent's own last contact with its management server, and how
    many whole days before that probe the contact was; None when the probe read none."""
    checkin = _current_checkin(view)
    last_contact = (checkin.value.get("last_contact") if checkin else None) or None
    if checkin is None or last_contact is None:
        return None
    try:
        contacted = datetime.fromisoformat(str(last_contact).replace("Z", "+00:00"))
    except ValueError:
        return None
    if contacted.tzinfo is None:
        return None
    return checkin.observed_at, max((checkin.observed_at - contacted).days, 0)


def _assess_installed(view: HostView, standard_name: str | None, stale_days: int) -> Assessment:
    reboot = view.value(Aspect.REBOOT) or {}
    if reboot.get("pending"):
        return Assessment(HostState.REBOOT_PENDING, _reboot_causes(reboot))
    service_problem = _service_problem(view.value(Aspect.AGENT) or {})
    if service_problem:
        return Assessment(HostState.AGENT_UNHEALTHY, (service_problem,))
    # An agent that cannot reach its management server does not report: installed, not compliant.
    checkin = current_checkin(view) or {}
    if checkin.get("reachable") is False:
        return Assessment(
            HostState.AGENT_UNHEALTHY, (Reason("server_unreachable", {"server": checkin.get("server")}),)
        )
    # Nor does one that has not reached it for longer than the console allows, by its own account.
    silence = agent_silence(view)
    if silence is not None and silence[1] > stale_days:
        return Assessment(HostState.AGENT_UNHEALTHY, (Reason("agent_silent", {"days": silence[1]}),))
    name_problem = _name_problem(view, standard_name)
    if name_problem:
        return Assessment(HostState.MISNAMED, (name_problem, *_rename_withheld(view)))
    return Assessment(HostState.COMPLIANT)


def _assess_not_installed(view: HostView) -> Assessment:
    eligibility = view.value(Aspect.ELIGIBILITY)
    if eligibility is not None and not eligibility.get("eligible", False):
        return Assessment(HostState.INELIGIBLE, Eligibility.from_value(eligibility).reasons)
    license_ = view.value(Aspect.LICENSE)
    if license_ is not None and not license_.get("granted", True):
        return Assessment(HostState.NOT_INSTALLED, _reason(license_))
    return Assessment(HostState.NOT_INSTALLED)


def assess(
    view: HostView, standard_name: str | None, stale_days: int = DEFAULT_CONSOLE_STALE_DAYS
) -> Assessment:
    """Return the host's state and the reasons behind it; first matching rule wins.

    ``stale_days`` is the inventory's ``agentroll_console_stale_days``: an agent whose own last
    contact with its server was longer ago than that when the PC was probed does not report.
    """
    if not view.latest:
        return Assessment(HostState.UNKNOWN)
    contact = view.value(Aspect.CONTACT) or {}
    if contact.get("status") == ContactStatus.UNREACHABLE:
        return Assessment(HostState.UNREACHABLE, _reason(contact))
    if contact.get("status") == ContactStatus.UNMANAGEABLE:
        return Assessment(HostState.UNMANAGEABLE, _reason(contact))
    failure = _current_failure(view)
    if failure is not None:
        return Assessment(HostState.FAILED, (_failure_reason(failure),))
    interrupted = _interrupted_step(view)
    if interrupted is not None:
        return Assessment(HostState.FAILED, (Reason("interrupted", {"step": interrupted}),))
    if is_installed(view):
        return _assess_installed(view, standard_name, stale_days)
    return _assess_not_installed(view)
