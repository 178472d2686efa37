"""The runner's progress in the operator's terms, from ansible-runner events recorded on a real run.

``fixtures/runner-events-site.json`` is site.yml on six simulated PCs (recorded by
``fixtures/record_runner_events.py``): snv-01..03 and yte-03 reachable (snv-03 below the RAM
requirement), yte-01 switched off, yte-02's installer failing with 1603; SNV has 3 licenses, YTE 1.
The plan gives install to snv-01, snv-02 and yte-02, and a rename to three PCs.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from agentroll.runner import PlaybookRun, Progress, ProgressLine, StepCount
from agentroll.runner.playbook import (
    COVERAGE_CALLBACK,
    WARM_WORKERS_CALLBACK,
    resolve_playbook,
    run_environment,
)
from agentroll.runner.progress import STEPS, TOOLKIT, step_of

FIXTURE = Path(__file__).parent / "fixtures" / "runner-events-site.json"
ROOT = Path(__file__).resolve().parents[2]

Event = Mapping[str, Any]
PROBE = "agentroll.toolkit.win_agentroll_probe"


@pytest.fixture(scope="module")
def site_events() -> list[Event]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def fed(events: Sequence[Event], hosts: int | None = 6) -> Progress:
    progress = Progress(hosts)
    for event in events:
        progress.feed(event)
    return progress


def until(events: Sequence[Event], predicate: Callable[[Event], bool]) -> list[Event]:
    """The events up to and including the first one matching ``predicate``."""
    for index, event in enumerate(events):
        if predicate(event):
            return list(events[: index + 1])
    raise AssertionError("no such event in the recording")


def task_start(action: str, role: str | None = None) -> Callable[[Event], bool]:
    def matches(event: Event) -> bool:
        data = event["event_data"]
        return (
            event["event"] == "playbook_on_task_start"
            and data.get("resolved_action") == action
            and role in (None, data.get("resolved_role"))
        )

    return matches


def lines(events: Sequence[Event], hosts: int | None = 6) -> Iterator[str]:
    """The progress line after each event, as the demo shows it."""
    progress = Progress(hosts)
    for event in events:
        progress.feed(event)
        current = progress.current()
        if current is not None:
            yield str(current)


def test_a_whole_site_run_counts_every_step_in_order(site_events: list[Event]) -> None:
    progress = fed(site_events)
    assert progress.counts() == [
        StepCount("probe", 6, 6),
        StepCount("install", 3, 3),  # the plan's installs: snv-01, snv-02, yte-02 (its 1603 counts)
        StepCount("rename", 3, 3),
        StepCount("reboot", 3, 3),  # the PCs that notified the reboot handler
        StepCount("verify", 3, 3),  # the PCs the plan gave work, less yte-02, which failed
    ]


def test_the_probe_counts_against_the_hosts_the_run_targets_from_its_start(site_events: list[Event]) -> None:
    started = until(site_events, task_start(PROBE))
    assert str(fed(started).current()) == "probe 0/6"
    # Without the caller's count, only the hosts seen so far (the once-per-play checks ran on one).
    assert str(fed(started, hosts=None).current()) == "probe 0/1"


def test_installing_counts_the_pcs_the_plan_installs_on(site_events: list[Event]) -> None:
    started = until(site_events, task_start("agentroll.toolkit.agent_package"))
    assert str(fed(started).current()) == "installing 0/3"
    first_result = until(
        site_events,
        lambda event: (
            event["event"] == "runner_on_ok"
            and event["event_data"].get("resolved_action") == "agentroll.toolkit.agent_package"
        ),
    )
    assert str(fed(first_result).current()) == "installing 1/3"


def test_a_probe_after_the_plan_is_a_verification_of_the_pcs_with_work(site_events: list[Event]) -> None:
    planned = until(site_events, task_start("agentroll.toolkit.plan"))
    assert str(fed(planned).current()) == "probe 6/6"
    after = site_events[len(planned) :]
    verify = until(after, task_start(PROBE))
    assert str(fed(planned + verify).current()) == "verifying 0/3"


def test_a_step_every_host_skipped_so_far_is_not_shown(site_events: list[Event]) -> None:
    started = until(site_events, task_start("agentroll.toolkit.agent_package"))
    after = site_events[len(started) :]
    skipped = until(after, lambda event: event["event"] == "runner_on_skipped")
    progress = Progress(6)
    for event in started + skipped:
        progress.feed(event)
    assert progress.counts()[-1] == StepCount("install", 0, 3)
    assert str(progress.current()) == "installing 0/3"


def test_progress_speaks_in_steps_never_in_raw_task_names(site_events: list[Event]) -> None:
    shown = list(lines(site_events))
    words = list(dict.fromkeys(line.split()[0] for line in shown))
    assert words == ["probe", "installing", "renaming", "rebooting", "verifying"]
    assert not any("Validating" in line or "arg spec" in line for line in shown)


def test_the_recap_and_the_ansible_playbook_pid_are_kept(site_events: list[Event]) -> None:
    progress = fed(site_events)
    assert progress.stats["dark"] == {"yte-01": 1}
    assert progress.stats["failures"] == {"yte-02": 1}
    assert set(progress.stats["processed"]) == {"snv-01", "snv-02", "snv-03", "yte-01", "yte-02", "yte-03"}
    assert progress.pid == site_events[0]["pid"]


def test_only_the_toolkits_own_tasks_are_steps() -> None:
    users_task = {"resolved_action": "ansible.windows.win_reboot", "role": "office", "resolved_role": None}
    play_task = {"resolved_action": "ansible.windows.win_hostname"}
    toolkit_task = {"resolved_action": "ansible.windows.win_reboot", "resolved_role": f"{TOOLKIT}.reboot"}
    assert step_of(users_task) is None
    assert step_of(play_task) is None
    assert step_of(toolkit_task) == "reboot"
    # "verify" is a probe after the run's plan (see the test above).
    assert set(STEPS.values()) == {"probe", "install", "rename", "reboot"}


def _event(kind: str, **data: Any) -> Event:
    return {"event": kind, "pid": 4242, "event_data": data}


REBOOT = {"resolved_action": "ansible.windows.win_reboot", "resolved_role": "agentroll.toolkit.reboot"}


def test_a_handler_counts_the_hosts_that_notified_it() -> None:
    events = [
        _event("playbook_on_notify", host="pc-1", handler="Reboot"),
        _event("playbook_on_notify", host="pc-3", handler="Reboot"),
        _event("playbook_on_task_start", task_uuid="h1", name="Reboot", is_conditional=True, **REBOOT),
        _event("runner_on_ok", host="pc-3", task_uuid="h1", **REBOOT),
    ]
    assert str(fed(events, hosts=10).current()) == "rebooting 1/2"


def test_the_free_strategy_announcing_a_task_per_host_keeps_the_count() -> None:
    start = _event("playbook_on_task_start", task_uuid="t1", **REBOOT)
    events = [start, _event("runner_on_ok", host="pc-1", task_uuid="t1", **REBOOT), start]
    assert str(fed(events, hosts=3).current()) == "rebooting 1/3"


def test_a_failure_with_ignore_errors_keeps_the_host_in_the_play() -> None:
    probe = {"resolved_action": PROBE, "resolved_role": "agentroll.toolkit.agent"}
    events = [
        _event("playbook_on_task_start", task_uuid="p", resolved_action="agentroll.toolkit.plan"),
        _event("runner_on_failed", host="pc-1", task_uuid="x", ignore_errors=True, resolved_action="a.b.c"),
        _event("runner_on_failed", host="pc-2", task_uuid="x", resolved_action="a.b.c"),
        _event("playbook_on_task_start", task_uuid="v", **probe),
    ]
    assert str(fed(events, hosts=3).current()) == "verifying 0/2"


def test_the_environment_adds_the_toolkit_s_callbacks_and_the_callers_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANSIBLE_CALLBACKS_ENABLED", "ansible.posix.profile_tasks")
    before = dict(os.environ)
    run = PlaybookRun("playbooks/site.yml", Path("inventory/demo"), env={"AGENTROLL_STATE": "/tmp/x.sqlite"})
    env = run_environment(run, ROOT / "ansible.cfg")
    assert env["ANSIBLE_CALLBACKS_ENABLED"] == (
        f"ansible.posix.profile_tasks,{COVERAGE_CALLBACK},{WARM_WORKERS_CALLBACK}"
    )
    assert env["AGENTROLL_STATE"] == "/tmp/x.sqlite"
    assert env["ANSIBLE_CONFIG"] == str(ROOT / "ansible.cfg")
    assert env["NTLM_USER_FILE"] == ""
    assert dict(os.environ) == before
    quiet = run_environment(PlaybookRun("x.yml", Path("i"), coverage_callback=False), None)
    assert quiet["ANSIBLE_CALLBACKS_ENABLED"] == f"ansible.posix.profile_tasks,{WARM_WORKERS_CALLBACK}"
    assert "ANSIBLE_CONFIG" not in quiet


def test_a_run_without_the_coverage_callback_still_warms_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANSIBLE_CALLBACKS_ENABLED", f"{WARM_WORKERS_CALLBACK},{COVERAGE_CALLBACK}")
    env = run_environment(PlaybookRun("x.yml", Path("i"), coverage_callback=False), None)
    assert env["ANSIBLE_CALLBACKS_ENABLED"] == WARM_WORKERS_CALLBACK


def test_playbooks_resolve_to_files_of_the_checkout_or_stay_collection_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_playbook("playbooks/site.yml") == str(ROOT / "playbooks" / "site.yml")
    (tmp_path / "mine.yml").write_text("[]\n", encoding="utf-8")
    assert resolve_playbook("mine.yml") == str(tmp_path / "mine.yml")
    assert resolve_playbook("agentroll.toolkit.site") == "agentroll.toolkit.site"


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_rewrites_itself_on_a_terminal() -> None:
    out = _Terminal()
    line = ProgressLine(out)
    line.update("site: probe 1/6")
    line.update("site: probe 2/6")
    line.done("site: 6/6 hosts")
    assert out.getvalue() == "\rsite: probe 1/6\rsite: probe 2/6\r" + " " * 15 + "\rsite: 6/6 hosts\n"


def test_the_progress_line_prints_now_and_then_in_a_pipe() -> None:
    out = _Pipe()
    line = ProgressLine(out, interval=3600)
    line.update("site: probe 1/6")
    line.update("site: probe 2/6")  # within the interval: not printed
    line.done("site: 6/6 hosts")
    assert out.getvalue() == "site: probe 1/6\nsite: 6/6 hosts\n"
