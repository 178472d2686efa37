"""Progress of a playbook run in the operator's terms, from ansible-runner's event stream.

The events are the ones AWX shows (``playbook_on_task_start``, ``runner_on_ok``, ...). They name a
task's resolved action and role but carry no task variables, so the toolkit's own steps (the tasks
marked ``agentroll_step``) are recognised here by role and action, in ``STEPS``: the one table to
update when the roles change. It is for display only: what a run recorded is decided by the
coverage callback and ``agentroll.observe``, never by this table.

A step's count is "hosts done of hosts it is for", about the step's latest task: done are the hosts
with a result on it (ok, changed, failed or unreachable); the hosts it is for are the hosts still
in the play (inside an ``include_tasks``: the hosts that included it; for a handler: the hosts that
notified it), less those that skipped it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TOOLKIT = "agentroll.toolkit"

#: (role, resolved action) → step: which of the toolkit's tasks stands for which operator step.
STEPS: dict[tuple[str, str], str] = {
    (f"{TOOLKIT}.preflight", f"{TOOLKIT}.win_agentroll_probe"): "probe",
    (f"{TOOLKIT}.agent", "ansible.windows.win_package"): "install",
    (f"{TOOLKIT}.agent", f"{TOOLKIT}.agent_package"): "install",
    (f"{TOOLKIT}.agent", "ansible.windows.win_reboot"): "reboot",
    (f"{TOOLKIT}.hostname", "ansible.windows.win_hostname"): "rename",
    (f"{TOOLKIT}.hostname", "ansible.windows.win_reboot"): "reboot",
    (f"{TOOLKIT}.hostname", f"{TOOLKIT}.win_agentroll_probe"): "verify",
    (f"{TOOLKIT}.verify", f"{TOOLKIT}.win_agentroll_probe"): "verify",
}
#: How each step is named on the progress line.
LABELS = {
    "probe": "probe",
    "install": "installing",
    "rename": "renaming",
    "reboot": "rebooting",
    "verify": "verifying",
}
INCLUDE_ACTIONS = frozenset({"ansible.builtin.include_tasks", "ansible.builtin.include_role"})
FINISHED = frozenset({"runner_on_ok", "runner_on_failed", "runner_on_unreachable"})


@dataclass(frozen=True)
class StepCount:
    """One step of a run: how many hosts are done, of how many it is for."""

    step: str
    done: int
    total: int

    def __str__(self) -> str:
        return f"{LABELS.get(self.step, self.step)} {self.done}/{self.total}"


@dataclass
class _Step:
    """What the events said so far about the latest task of one step."""

    task_uuid: str
    scope: frozenset[str] | None = None  # None: every host still in the play
    done: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)


class Progress:
    """Fed every event of one run (in order); says which step the run is at and how far it got."""

    def __init__(self, hosts: int | None = None) -> None:
        """``hosts``: how many hosts the run targets, when the caller knows (else: those seen so far)."""
        self.expected_hosts = hosts
        self.pid: int | None = None
        self.stats: dict[str, dict[str, int]] = {}
        self._seen: set[str] = set()
        self._out: set[str] = set()  # failed or unreachable: no further task runs for them
        self._steps: dict[str, _Step] = {}
        self._started: list[str] = []  # steps, latest task start last
        self._included_by: dict[str, set[str]] = {}  # include task uuid → hosts that included
        self._file_scope: dict[str, frozenset[str]] = {}  # included file → hosts it runs for
        self._notified: dict[str, set[str]] = {}  # handler name → hosts that notified it

    def feed(self, event: Mapping[str, Any]) -> None:
        """Take one ansible-runner event into account."""
        kind = event.get("event", "")
        data: Mapping[str, Any] = event.get("event_data") or {}
        if self.pid is None and event.get("pid"):
            self.pid = int(event["pid"])
        host = data.get("host")
        if host:
            self._seen.add(host)
        if kind == "playbook_on_task_start":
            self._task_started(data)
        elif kind == "playbook_on_include":
            includers = self._included_by.get(data.get("task_uuid") or "", set())
            self._file_scope[data.get("included_file") or ""] = frozenset(includers)
        elif kind == "playbook_on_notify" and host:
            self._notified.setdefault(data.get("handler") or "", set()).add(host)
        elif kind == "playbook_on_stats":
            self.stats = {key: dict(data.get(key) or {}) for key in _STATS_KEYS}
        elif host and (kind in FINISHED or kind == "runner_on_skipped"):
            self._host_result(kind, host, data)

    def _task_started(self, data: Mapping[str, Any]) -> None:
        step = step_of(data)
        if step is None:
            return
        task_uuid = data.get("task_uuid") or ""
        known = self._steps.get(step)
        if known is None or known.task_uuid != task_uuid:
            # The free strategy announces a task once per host: only a new task starts afresh.
            self._steps[step] = _Step(task_uuid, self._scope_of(data))
            self._started = [*(known for known in self._started if known != step), step]

    def _scope_of(self, data: Mapping[str, Any]) -> frozenset[str] | None:
        """The hosts a task can run for: a handler's notifiers, an included file's includers, else all."""
        if data.get("is_conditional"):  # how runner's display callback marks a handler
            return frozenset(self._notified.get(data.get("name") or data.get("task") or "", ()))
        task_file = str(data.get("task_path") or "").rpartition(":")[0]
        return self._file_scope.get(task_file)

    def _host_result(self, kind: str, host: str, data: Mapping[str, Any]) -> None:
        if kind == "runner_on_ok" and data.get("resolved_action") in INCLUDE_ACTIONS:
            self._included_by.setdefault(data.get("task_uuid") or "", set()).add(host)
        if kind == "runner_on_unreachable" or (kind == "runner_on_failed" and not data.get("ignore_errors")):
            self._out.add(host)
        state = self._steps.get(step_of(data) or "")
        if state is None or state.task_uuid != data.get("task_uuid"):
            return
        (state.skipped if kind == "runner_on_skipped" else state.done).add(host)

    def counts(self) -> list[StepCount]:
        """Every step met so far, in the order the run met them."""
        return [self._count(step, state) for step, state in self._steps.items()]

    def current(self) -> StepCount | None:
        """The step the run is at: the latest one started that not every host skipped (None before)."""
        for step in reversed(self._started):
            state = self._steps[step]
            if state.done or not state.skipped:
                return self._count(step, state)
        return None

    def _count(self, step: str, state: _Step) -> StepCount:
        if state.scope is None:
            in_play = max(self.expected_hosts or 0, len(self._seen)) - len(self._out - state.done)
        else:
            in_play = len(state.scope - (self._out - state.done))
        total = max(in_play - len(state.skipped - state.done), len(state.done))
        return StepCount(step, len(state.done), total)


_STATS_KEYS = ("ok", "changed", "failures", "dark", "skipped", "ignored", "rescued", "processed")


def step_of(data: Mapping[str, Any]) -> str | None:
    """The toolkit step an event's task stands for, from ``STEPS``; None for any other task."""
    role = data.get("resolved_role") or data.get("role") or ""
    return STEPS.get((role, data.get("resolved_action") or ""))
