"""Progress of a playbook run in the operator's terms, from ansible-runner's event stream.

The events are the ones AWX shows (``playbook_on_task_start``, ``runner_on_ok``, ...). They name a
task's resolved action and role but carry no task variables, so the toolkit's own steps (the tasks
marked ``agentroll_step``) are recognised here by role and action, in ``STEPS``: the one table to
update when the roles change. It is for display only: what a run recorded is decided by the
coverage callback and ``agentroll.observe``, never by this table.

A step's count is "hosts done of hosts it is for": done are the hosts with a result on one of its
tasks (ok, changed, failed or unreachable); the hosts it is for are, once the run's
plan is known (the plan action's result), the PCs it gives that work (install, rename; verify: every
PC with work); else the hosts still in the play (inside an ``include_tasks``: the hosts that
included it; for a handler: the hosts that notified it), less those that skipped it. After the plan,
site.yml takes each PC at its own pace (host_pinned strategy), so the line names the step whose task
started last and may move back and forth between steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TOOLKIT = "agentroll.toolkit"

#: (role, resolved action) → step: which of the toolkit's tasks stands for which operator step. The
#: one probe task lives in the agent role; a probe after the run's plan is a verification.
STEPS: dict[tuple[str, str], str] = {
    (f"{TOOLKIT}.agent", f"{TOOLKIT}.win_agentroll_probe"): "probe",
    (f"{TOOLKIT}.agent", f"{TOOLKIT}.agent_package"): "install",
    (f"{TOOLKIT}.hostname", "ansible.windows.win_hostname"): "rename",
    (f"{TOOLKIT}.reboot", "ansible.windows.win_reboot"): "reboot",
}
PLAN_ACTION = f"{TOOLKIT}.plan"
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
    """What the events said so far about one step's tasks."""

    handler: str | None = None  # a handler's name: the hosts it is for are those that notified it
    task_file: str = ""  # the file of its first task: an included file runs for its includers only
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
        self._planned = False  # the run's plan has started: a probe from now on is a verification
        self._work: dict[str, frozenset[str]] = {}  # step → the PCs the plan gives that work

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
        if data.get("resolved_action") == PLAN_ACTION:
            self._planned = True
        step = self._step_of(data)
        if step is None:
            return
        if step not in self._steps:
            # How runner's display callback marks a handler: is_conditional.
            handler = str(data.get("name") or data.get("task") or "") if data.get("is_conditional") else None
            self._steps[step] = _Step(handler, str(data.get("task_path") or "").rpartition(":")[0])
        # The free and host_pinned strategies announce a task once per host: the step started last is
        # the current one.
        self._started = [*(known for known in self._started if known != step), step]

    def _scope_of(self, state: _Step) -> frozenset[str] | None:
        """The hosts a step can run for: a handler's notifiers, an included file's includers, else all."""
        if state.handler is not None:
            return frozenset(self._notified.get(state.handler, ()))
        return self._file_scope.get(state.task_file)

    def _host_result(self, kind: str, host: str, data: Mapping[str, Any]) -> None:
        if kind == "runner_on_ok" and data.get("resolved_action") == PLAN_ACTION:
            self._work = planned_work((data.get("res") or {}).get("hosts") or {})
        if kind == "runner_on_ok" and data.get("resolved_action") in INCLUDE_ACTIONS:
            self._included_by.setdefault(data.get("task_uuid") or "", set()).add(host)
        if kind == "runner_on_unreachable" or (kind == "runner_on_failed" and not data.get("ignore_errors")):
            self._out.add(host)
        state = self._steps.get(self._step_of(data) or "")
        if state is not None:
            (state.skipped if kind == "runner_on_skipped" else state.done).add(host)

    def _step_of(self, data: Mapping[str, Any]) -> str | None:
        step = step_of(data)
        return "verify" if step == "probe" and self._planned else step

    def counts(self) -> list[StepCount]:
        """Every step met so far, in the order the run met them."""
        return [self._count(step, state) for step, state in self._steps.items()]

    def current(self) -> StepCount | None:
        """The step the run is at: the latest one started that some host still does (None before)."""
        for step in reversed(self._started):
            count = self._count(step, self._steps[step])
            if count.done or count.total:
                return count
        return None

    def _count(self, step: str, state: _Step) -> StepCount:
        scope = self._work.get(step) or self._scope_of(state)
        if scope is None:
            in_play = max(self.expected_hosts or 0, len(self._seen)) - len(self._out - state.done)
        else:
            in_play = len(scope - (self._out - state.done))
        skipped = state.skipped - state.done
        if scope is not None:
            skipped &= scope
        total = max(in_play - len(skipped), len(state.done))
        return StepCount(step, len(state.done), total)


_STATS_KEYS = ("ok", "changed", "failures", "dark", "skipped", "ignored", "rescued", "processed")


def planned_work(hosts: Mapping[str, Mapping[str, Any]]) -> dict[str, frozenset[str]]:
    """Per step, the PCs the plan gives that work (from the plan action's ``hosts``)."""
    with_work = frozenset(
        name
        for name, plan in hosts.items()
        if any(plan.get(flag) for flag in ("install", "repair_service", "reboot", "rename"))
    )
    return {
        "install": frozenset(name for name, plan in hosts.items() if plan.get("install")),
        "rename": frozenset(name for name, plan in hosts.items() if plan.get("rename")),
        "verify": with_work,
    }


def step_of(data: Mapping[str, Any]) -> str | None:
    """The toolkit step an event's task stands for, from ``STEPS``; None for any other task."""
    role = data.get("resolved_role") or data.get("role") or ""
    return STEPS.get((role, data.get("resolved_action") or ""))
