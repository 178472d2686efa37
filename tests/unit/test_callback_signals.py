"""The coverage callback's Ctrl-C / SIGTERM handling, without Ansible's timing in the way.

Ansible hands each result to the stdout callback before this one; a signal that lands in between
(the result is printed, not yet stored) must wait until the result is stored. The integration
test (test_interruption.py) shows the whole run; here the exact moment is chosen by hand.
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path
from types import FrameType, ModuleType, SimpleNamespace
from typing import Any

import pytest

from agentroll.model import Aspect
from agentroll.recorder import InProcessRecorder, RunInfo

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "callback" / "coverage.py"


def _load_plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agentroll_coverage_callback", PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeStore:
    """What the callback asks of the store, written down in order."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def start_run(self, playbook: str, **_: Any) -> int:
        return 1

    def record(self, run_id: int, host: str, rows: list[tuple[Aspect, dict[str, Any]]]) -> None:
        self.events.append(("record", host, [aspect for aspect, _ in rows]))

    def finish_run(self, run_id: int, status: str) -> None:
        self.events.append(("finish", status))


def _probe_result(host: str) -> SimpleNamespace:
    task = SimpleNamespace(
        _uuid=f"probe-{host}",
        vars={"agentroll_step": "probe"},
        name="Probe",
        action="probe",
        no_log=False,
        check_mode=False,
        run_once=False,
    )
    data = {"computer_name": "PC", "os_caption": "Microsoft Windows 10 Pro", "agent": {"installed": False}}
    return SimpleNamespace(host=SimpleNamespace(get_name=lambda: host), task=task, result=data)


@pytest.fixture
def callback() -> Any:
    plugin = _load_plugin().CallbackModule()
    plugin._store = FakeStore()
    # In this process: the writer process's own recorder, whose every call is written down.
    plugin._recorder = InProcessRecorder(plugin._store, lambda: RunInfo("deploy.yml"))
    return plugin


def send_callback(method_name: str, *args: Any) -> FrameType:
    """Stands for Ansible's dispatcher: the frame (with its locals) a signal handler sees mid-dispatch."""
    return sys._getframe()


def ansible_sigint_handler(handled: list[int]) -> Any:
    """Stands for Ansible's own SIGINT handler: it raises KeyboardInterrupt."""

    def handler(signum: int, frame: FrameType | None) -> None:
        handled.append(signum)
        raise KeyboardInterrupt

    return handler


def test_a_signal_between_the_stdout_callback_and_this_one_waits_for_the_result(callback: Any) -> None:
    result = _probe_result("pc-1")
    handled: list[int] = []
    frame = send_callback("v2_runner_on_ok", SimpleNamespace(host=result.host, task=result.task))
    callback._on_signal(ansible_sigint_handler(handled), signal.SIGINT, frame)
    assert (handled, callback._store.events) == ([], [])  # not yet: the result is not stored
    with pytest.raises(KeyboardInterrupt):
        callback.v2_runner_on_ok(result)
    assert handled == [signal.SIGINT]
    assert callback._store.events == [
        ("record", "pc-1", [Aspect.CONTACT, Aspect.FACTS, Aspect.AGENT, Aspect.NAME, Aspect.REBOOT]),
        ("finish", "interrupted"),
    ]


def test_a_signal_before_the_next_host_s_result_of_the_same_task_waits_for_it(callback: Any) -> None:
    first = _probe_result("pc-1")
    callback.v2_runner_on_ok(first)
    # One task sends one result per PC: the same task, another host, is a result not yet stored.
    second = SimpleNamespace(
        host=SimpleNamespace(get_name=lambda: "pc-2"), task=first.task, result=first.result
    )
    handled: list[int] = []
    frame = send_callback("v2_runner_on_ok", SimpleNamespace(host=second.host, task=second.task))
    callback._on_signal(lambda signum, _: handled.append(signum), signal.SIGTERM, frame)
    assert handled == []
    callback.v2_runner_on_ok(second)
    assert handled == [signal.SIGTERM]
    assert [event[:2] for event in callback._store.events] == [
        ("record", "pc-1"),
        ("record", "pc-2"),
        ("finish", "interrupted"),
    ]


def test_a_signal_after_this_callback_stored_the_result_acts_at_once(callback: Any) -> None:
    result = _probe_result("pc-1")
    callback.v2_runner_on_ok(result)
    handled: list[int] = []
    frame = send_callback("v2_runner_on_ok", SimpleNamespace(host=result.host, task=result.task))
    callback._on_signal(lambda signum, _: handled.append(signum), signal.SIGTERM, frame)
    assert handled == [signal.SIGTERM]
    assert callback._store.events[-1] == ("finish", "interrupted")


def test_a_signal_outside_any_result_marks_the_run_and_hands_over(callback: Any) -> None:
    callback.v2_runner_on_ok(_probe_result("pc-1"))  # the run starts with its first result
    handled: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        callback._on_signal(ansible_sigint_handler(handled), signal.SIGINT, sys._getframe())
    assert handled == [signal.SIGINT]
    assert callback._store.events[1:] == [("finish", "interrupted")]


def test_a_signal_before_any_result_leaves_no_run_to_mark(callback: Any) -> None:
    handled: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        callback._on_signal(ansible_sigint_handler(handled), signal.SIGINT, sys._getframe())
    assert (handled, callback._store.events) == ([signal.SIGINT], [])


def test_a_ctrl_c_ansible_swallowed_is_raised_again_once_the_next_result_is_stored(callback: Any) -> None:
    callback.v2_runner_on_ok(_probe_result("pc-1"))
    # Ansible's KeyboardInterrupt raised inside a fork hook is ignored by Python: the run goes on.
    callback._on_signal(lambda signum, _: None, signal.SIGINT, sys._getframe())
    with pytest.raises(KeyboardInterrupt):
        callback.v2_runner_on_ok(_probe_result("pc-2"))
    assert callback._store.events[1] == ("finish", "interrupted")
    assert callback._store.events[2][:2] == ("record", "pc-2")
