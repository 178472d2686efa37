"""What a toolkit task reported about a PC, as observations (their shapes are in docs/architecture.md).

Every toolkit task that observes or changes a PC carries the task variable ``agentroll_step``
(``probe``, ``plan``, ``install``, ``service``, ``rename``, ``reboot``). The coverage callback
forwards each task outcome, with its step, to ``Observer.observe``; nothing is interpreted by
module names, so a task of somebody else's role (another service, another package) tells nothing
about the agent. What a step's result means lives here:

- ``probe``: contact, facts, agent, name and reboot of the PC;
- ``plan``: eligibility and license of every PC this run probed;
- ``install`` (``agentroll.toolkit.agent_package``): the agent is installed, perhaps waiting for a
  reboot; its start is recorded first, so a run that dies before the result arrives leaves the PC
  marked "interrupted during install" instead of silently not installed;
- ``service``: the agent service's state and start mode;
- ``rename``: the pending standard name, and the reboot it waits for;
- ``reboot``: the reboot happened (or the PC did not come back);
- ``answer`` (Wake-on-LAN, ``win_ping``): the PC answers;
- ``wake`` (``community.general.wakeonlan``, from the controller): a magic packet went to the PC;
- ``wake_answer`` (the bounded wait after it): the woken PC answered, or it did not, which is
  recorded as unreachable with the cause ``wol_no_answer``, not as a failure: nothing broke, the PC
  is off.

Any task's unreachable result is a contact observation with its cause; a failed step is a failure
observation with a one-line reason; a no_log result yields its outcome only, never its text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple

from agentroll.eligibility import Requirements, evaluate, normalize_architecture, os_family
from agentroll.model import Aspect, ContactStatus
from agentroll.reasons import Reason, reboot_cause, text

#: The task variable that marks a toolkit task with its step.
STEP_VARIABLE = "agentroll_step"

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
    "delayed": "auto",
    "delayed-auto": "auto",
    "manual": "manual",
    "demand": "manual",
    "disabled": "disabled",
}
_POWERSHELL_TOO_OLD = re.compile(
    r"requires (a minimum )?PowerShell|PowerShell v?\d[\d.]* (is )?required", re.I
)
_POWERSHELL_VERSION = re.compile(r"PowerShell v?(?P<version>\d+(?:\.\d+)*)", re.I)
#: What Ansible needs at least on a PC (its bootstrap wrapper refuses older PowerShell).
MIN_POWERSHELL = "5.1"
#: Unreachable causes, first match wins: the pattern in Ansible's message and the reason's code.
_UNREACHABLE_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    # urllib3's TLS failures come first: their text may mention anything after the verdict.
    (
        re.compile(r"hostname mismatch|doesn't match|does not match|not valid for '", re.I),
        "certificate_name_mismatch",
    ),
    (
        re.compile(r"certificate verify failed|self[- ]signed certificate|unable to get local issuer", re.I),
        "certificate_untrusted",
    ),
    (
        re.compile(r"credentials|unauthori[sz]ed|\b401\b|authenticat|logon failure|password", re.I),
        "credentials_rejected",
    ),
    (re.compile(r"refused", re.I), "connection_refused"),
    (re.compile(r"timed? ?out|timeout", re.I), "timed_out"),
    (
        re.compile(
            r"reset by peer|remote ?disconnected|connection aborted|closed connection|broken pipe", re.I
        ),
        "connection_dropped",
    ),
    (re.compile(r"name or service not known|nodename nor servname|no route to host", re.I), "host_not_found"),
)
_REBOOT_TIMEOUT = re.compile(r"Timed out waiting for .*\(timeout=(?P<seconds>[\d.]+)\)")
_MAX_REASON = 300


class Step(StrEnum):
    """The toolkit's steps, as the ``agentroll_step`` task variable names them."""

    PROBE = "probe"
    PLAN = "plan"
    INSTALL = "install"
    SERVICE = "service"
    RENAME = "rename"
    REBOOT = "reboot"
    ANSWER = "answer"
    WAKE = "wake"
    WAKE_ANSWER = "wake_answer"
    #: playbooks/selftest.yml's comparison: a disagreement is about the probe, not the PC's state.
    SELFTEST = "selftest"


class Status(StrEnum):
    """What the callback saw of a task on one host."""

    STARTED = "started"
    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


#: Steps whose start is recorded before they run: their result is worth knowing even if it is lost.
RECORDED_AT_START = frozenset({Step.INSTALL})


def recorded_at_start(step: str | None, check_mode: bool) -> bool:
    """Whether a step's start is recorded (a check-mode run changes nothing, so it starts nothing)."""
    return step in RECORDED_AT_START and not check_mode


#: Observations per host name.
Findings = dict[str, list[tuple[Aspect, dict[str, Any]]]]


class TaskOutcome(NamedTuple):
    """One task's outcome on one host, as the callback forwards it.

    ``step`` is the task's ``agentroll_step`` (None for a task that is not the toolkit's);
    ``censored`` means no_log: only the outcome may be used, never a message; ``run_once`` marks
    a play-level check that no single PC is to blame for. A tuple: the callback builds one per
    result inside Ansible's main loop and sends it to the writer as it is.
    """

    host: str
    step: str | None
    status: Status
    result: Mapping[str, Any]
    task: str = ""
    censored: bool = False
    check_mode: bool = False
    run_once: bool = False


def classify_unreachable(message: str) -> dict[str, Any]:
    """The cause of an unreachable host as a reason; the first line of Ansible's message if unknown."""
    for pattern, code in _UNREACHABLE_CAUSES:
        if pattern.search(message):
            return Reason(code).as_value()
    first = next((line.strip() for line in str(message).splitlines() if line.strip()), "no message")
    return text(first.removeprefix("Task failed: ")[:_MAX_REASON]).as_value()


def powershell_too_old(message: str) -> bool:
    """Whether a failure is Ansible refusing a PC whose PowerShell is older than it needs (Windows 7)."""
    return bool(_POWERSHELL_TOO_OLD.search(message))


def unmanageable_reason(message: str) -> dict[str, Any]:
    """The reason of a PC Ansible refused for its old PowerShell, with the version it asked for."""
    found = _POWERSHELL_VERSION.search(message)
    required = found["version"] if found else MIN_POWERSHELL
    return Reason("powershell_too_old", {"required": required}).as_value()


def failure_reason(step: str | None, result: Mapping[str, Any], censored: bool) -> dict[str, Any]:
    """The reason of a failed step: a structured reason where one is known, else its first line.

    A no_log result yields no detail at all; a reboot that never came back says how long it waited;
    a failed install says the installer's exit code.
    """
    if censored:
        return Reason("details_hidden").as_value()
    message = str(result.get("msg") or result.get("reason") or "").strip()
    if step == Step.REBOOT and (timeout := _REBOOT_TIMEOUT.search(message)):
        return Reason("reboot_timeout", {"seconds": round(float(timeout["seconds"]))}).as_value()
    rc = result.get("rc")
    failed_with_code = isinstance(rc, int) and not isinstance(rc, bool) and rc != 0
    if step == Step.INSTALL and failed_with_code:
        return Reason("installer_exit_code", {"exit_code": rc}).as_value()
    if failed_with_code and f"{rc}" not in message:
        message = f"{message} (exit code {rc})" if message else f"exit code {rc}"
    first = next((line.strip() for line in message.splitlines() if line.strip()), "failed")
    return text(first[:_MAX_REASON]).as_value()


def start_mode(value: Any) -> str | None:
    """A Windows service start mode in the store's words: ``auto``, ``manual``, ``disabled`` or None."""
    text = _str_or_none(value)
    return None if text is None else _START_MODES.get(text.lower())


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
    service_state = None if raw_state is None else _SERVICE_STATES.get(raw_state.lower(), "stopped")
    return {
        "installed": bool(agent.get("installed")),
        "version": _str_or_none(agent.get("version")),
        "service_name": _str_or_none(agent.get("service_name")),
        "service_state": service_state,
        "start_mode": start_mode(agent.get("service_start_mode")),
    }


def name_from_probe(probe: Mapping[str, Any]) -> dict[str, Any]:
    """The ``name`` observation value."""
    return {
        "computer_name": _str_or_none(probe.get("computer_name")),
        "pending_name": _str_or_none(probe.get("pending_computer_name")),
    }


def reboot_from_probe(probe: Mapping[str, Any]) -> dict[str, Any]:
    """The ``reboot`` observation value: its causes as reasons, in the probe's order."""
    words = [str(cause) for cause in probe.get("reboot_pending_reasons") or () if cause]
    causes = [reboot_cause(cause).as_value() for cause in words]
    pending = bool(probe.get("reboot_pending"))
    return {"pending": pending, "reason": causes if pending and causes else None}


def checkin_from_probe(probe: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``checkin`` observation value, or None when the probe did not check the agent's server."""
    checkin = probe.get("checkin")
    if not isinstance(checkin, Mapping):
        return None
    reachable = checkin.get("reachable")
    return {
        "server": _str_or_none(checkin.get("server")),
        "reachable": reachable if isinstance(reachable, bool) else None,
        "error": _str_or_none(checkin.get("error")),
        "last_contact": _str_or_none(checkin.get("last_contact")),
    }


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
    checkin = checkin_from_probe(probe)
    if checkin is not None:
        observations.append((Aspect.CHECKIN, checkin))
    if requirements is not None:
        observations.append((Aspect.ELIGIBILITY, evaluate(requirements, facts).as_value()))
    return observations


class Observer:
    """Turns one run's task outcomes into observations.

    It remembers, per run, what later steps need and their results do not carry: each PC's agent
    as last seen (a service result updates it), the standard names and install decisions of the
    plan (a rename result does not say the new name), and which PCs this run probed.
    """

    def __init__(self) -> None:
        self._agent: dict[str, dict[str, Any]] = {}
        self._plan: dict[str, Mapping[str, Any]] = {}
        self._probed: set[str] = set()
        self._started: set[tuple[str, str]] = set()
        self._packets: dict[str, dict[str, Any]] = {}

    def observe(self, outcome: TaskOutcome) -> Findings:
        """The observations ``outcome`` yields, per host (most outcomes yield none)."""
        if outcome.status == Status.UNREACHABLE or outcome.result.get("unreachable"):
            found = self._unreachable(outcome)
        elif outcome.status == Status.STARTED:
            found = self._started_step(outcome)
        elif outcome.status == Status.SKIPPED:
            found = self._skipped(outcome)
        elif outcome.status == Status.FAILED:
            found = self._failed(outcome)
        else:
            found = self._ok(outcome)
        return {host: rows for host, rows in found.items() if rows}

    # -- per status -------------------------------------------------------------------------

    def _unreachable(self, outcome: TaskOutcome) -> Findings:
        message = "" if outcome.censored else str(outcome.result.get("msg") or "")
        contact = {"status": ContactStatus.UNREACHABLE.value, "reason": classify_unreachable(message)}
        return {outcome.host: [(Aspect.CONTACT, contact)]}

    def _started_step(self, outcome: TaskOutcome) -> Findings:
        step = outcome.step
        if step not in RECORDED_AT_START or outcome.check_mode:
            return {}
        plan = self._plan.get(outcome.host)
        if plan is not None and not plan.get("install"):
            return {}  # the plan says this PC installs nothing: the task will be skipped
        self._started.add((outcome.host, str(step)))
        return {outcome.host: [(Aspect.STEP, {"step": step, "status": Status.STARTED.value})]}

    def _skipped(self, outcome: TaskOutcome) -> Findings:
        return self._finished(outcome.host, outcome.step, Status.SKIPPED)

    def _failed(self, outcome: TaskOutcome) -> Findings:
        host, step, result = outcome.host, outcome.step, outcome.result
        message = "" if outcome.censored else str(result.get("msg") or "")
        if step == Step.PROBE and powershell_too_old(message):
            contact = {"status": ContactStatus.UNMANAGEABLE.value, "reason": unmanageable_reason(message)}
            return {host: [(Aspect.CONTACT, contact)]}
        if step == Step.WAKE_ANSWER:
            return self._woken(host, answered=False)
        if outcome.run_once or step == Step.SELFTEST:
            return {}  # a play-level check or the self-test: the output says it; no PC is at fault
        task = step or outcome.task.strip() or "task"
        failure = {"task": task, "reason": failure_reason(step, result, outcome.censored)}
        return _merge(self._finished(host, step, Status.FAILED), {host: [(Aspect.FAILURE, failure)]})

    def _ok(self, outcome: TaskOutcome) -> Findings:
        step, host, result = outcome.step, outcome.host, outcome.result
        if outcome.censored:
            return {}  # a no_log result is opaque; the toolkit's steps never need no_log
        if step == Step.PROBE:
            self._probed.add(host)
            self._agent[host] = agent_from_probe(result)
            return {host: observations_from_probe(result)}
        if step == Step.PLAN:
            return self._planned(result)
        if step == Step.ANSWER:
            return {host: [(Aspect.CONTACT, {"status": ContactStatus.OK.value, "reason": None})]}
        if step == Step.WAKE and not outcome.check_mode:
            return {host: [(Aspect.WAKE, self._packet(host, result))]}
        if step == Step.WAKE_ANSWER:
            return self._woken(host, answered=True)
        if outcome.check_mode or step not in _CHANGES:
            return {}  # a dry run's "would change" is not a change
        return _merge({host: _CHANGES[Step(step)](self, host, result)}, self._finished(host, step, Status.OK))

    # -- steps ----------------------------------------------------------------------------------

    def _planned(self, result: Mapping[str, Any]) -> Findings:
        """Eligibility, license and rename scope of every PC probed in this run (not of others: see below)."""
        findings: Findings = {}
        for host, plan in (result.get("hosts") or {}).items():
            self._plan[host] = plan
            # Recording for a PC this run did not contact would make this run its latest, which
            # would hide a failure of its own latest run; the plan re-derives those from the store.
            if host not in self._probed:
                continue
            eligibility = {"eligible": bool(plan.get("eligible")), "reasons": list(plan.get("reasons") or [])}
            grant = {"granted": bool(plan.get("license_granted")), "reason": plan.get("license_reason")}
            scope = {"withheld": plan.get("rename_withheld")}
            findings[host] = [
                (Aspect.ELIGIBILITY, eligibility),
                (Aspect.LICENSE, grant),
                (Aspect.RENAME_SCOPE, scope),
            ]
        return findings

    def _installed(self, host: str, result: Mapping[str, Any]) -> list[tuple[Aspect, dict[str, Any]]]:
        # The service the installer created is yet to be looked at: its state is not the probe's.
        agent = self._agent_update(
            host, installed=bool(result.get("installed", True)), service_state=None, start_mode=None
        )
        rows: list[tuple[Aspect, dict[str, Any]]] = [(Aspect.AGENT, agent)]
        if result.get("reboot_required"):
            reason = Reason("reboot_installer", {"exit_code": result.get("rc")}).as_value()
            rows.append((Aspect.REBOOT, {"pending": True, "reason": reason}))
        return rows

    def _serviced(self, host: str, result: Mapping[str, Any]) -> list[tuple[Aspect, dict[str, Any]]]:
        if not result.get("exists", True):
            return [(Aspect.AGENT, self._agent_update(host, service_state="missing"))]
        state = "running" if result.get("state") == "running" else "stopped"
        agent = self._agent_update(host, service_state=state, start_mode=start_mode(result.get("start_mode")))
        return [(Aspect.AGENT, agent)]

    def _renamed(self, host: str, result: Mapping[str, Any]) -> list[tuple[Aspect, dict[str, Any]]]:
        if not result.get("changed"):
            return []
        pending = (self._plan.get(host) or {}).get("standard_name")
        rows: list[tuple[Aspect, dict[str, Any]]] = [
            (Aspect.NAME, {"computer_name": result.get("old_name"), "pending_name": pending})
        ]
        if result.get("reboot_required"):
            rows.append((Aspect.REBOOT, {"pending": True, "reason": Reason("reboot_rename").as_value()}))
        return rows

    def _rebooted(self, host: str, result: Mapping[str, Any]) -> list[tuple[Aspect, dict[str, Any]]]:
        if not result.get("rebooted"):
            return []
        return [(Aspect.REBOOT, {"pending": False, "reason": None})]

    def _packet(self, host: str, result: Mapping[str, Any]) -> dict[str, Any]:
        """The magic packet sent to ``host``, from the module's arguments (its result says nothing)."""
        arguments = (result.get("invocation") or {}).get("module_args") or {}
        packet = {
            "mac": arguments.get("mac"),
            "address": arguments.get("broadcast"),
            "port": arguments.get("port"),
            "answered": None,
        }
        self._packets[host] = packet
        return packet

    def _woken(self, host: str, *, answered: bool) -> Findings:
        """After the wait for a woken PC: its contact, and whether it answered its packet."""
        reason = None if answered else Reason("wol_no_answer").as_value()
        status = ContactStatus.OK if answered else ContactStatus.UNREACHABLE
        packet = {**self._packets.get(host, {}), "answered": answered}
        return {host: [(Aspect.CONTACT, {"status": status.value, "reason": reason}), (Aspect.WAKE, packet)]}

    def _agent_update(self, host: str, **changes: Any) -> dict[str, Any]:
        """The host's agent as last seen, with ``changes``; a service result means it is installed."""
        known = self._agent.get(host) or {
            "installed": True,
            "version": None,
            "service_name": None,
            "service_state": None,
            "start_mode": None,
        }
        agent = {**known, **changes}
        self._agent[host] = agent
        return agent

    def _finished(self, host: str, step: str | None, status: Status) -> Findings:
        """Close a step whose start was recorded, so the PC no longer reads as interrupted."""
        if step is None or (host, step) not in self._started:
            return {}
        self._started.discard((host, step))
        return {host: [(Aspect.STEP, {"step": step, "status": status.value})]}


_CHANGES = {
    Step.INSTALL: Observer._installed,
    Step.SERVICE: Observer._serviced,
    Step.RENAME: Observer._renamed,
    Step.REBOOT: Observer._rebooted,
}


def _merge(first: Findings, second: Findings) -> Findings:
    """Both findings, in order, per host."""
    merged = {host: list(rows) for host, rows in first.items()}
    for host, rows in second.items():
        merged.setdefault(host, []).extend(rows)
    return merged
