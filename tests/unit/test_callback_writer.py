"""The coverage callback hands results to its writer, and records them itself once the writer is gone."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agentroll.recorder import RunInfo, WriterRecorder
from agentroll.store import open_store
from tests.unit.test_callback_signals import _load_plugin, _probe_result


def _callback_with_writer(state: Path, writer_state: Path | None = None) -> tuple[Any, list[str]]:
    """The callback on the store ``state``, its writer on ``writer_state`` (the same by default)."""
    warnings: list[str] = []
    plugin = _load_plugin().CallbackModule()
    plugin._display = SimpleNamespace(warning=warnings.append)
    plugin._store = open_store(state)
    # What the run is comes from Ansible's options and command line, which this test has not.
    plugin._run_info = lambda: RunInfo("site.yml", pid=os.getpid())
    plugin._recorder = WriterRecorder.start(str(writer_state or state), plugin._run_info)
    return plugin, warnings


def _three_results_then_the_end(plugin: Any) -> None:
    for host in ("pc-1", "pc-2", "pc-3"):
        plugin.v2_runner_on_ok(_installed_probe(host))
    plugin._finish(SimpleNamespace(failures={}, dark={}))
    plugin._close_recorder()


def _run_statuses(state: Path) -> list[str]:
    with open_store(state, readonly=True) as store:
        return [run.status for run in store.runs()]


def _installed(state: Path) -> set[str]:
    with open_store(state, readonly=True) as store:
        return {host for host, view in store.views().items() if (view.value("agent") or {}).get("installed")}


def _installed_probe(host: str) -> Any:
    result = _probe_result(host)
    result.result["agent"] = {"installed": True}
    return result


def test_results_reach_the_store_through_the_writer_and_the_end_of_run_waits_for_it(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    plugin, warnings = _callback_with_writer(state)
    _three_results_then_the_end(plugin)
    assert _installed(state) == {"pc-1", "pc-2", "pc-3"}
    assert _run_statuses(state) == ["ok"]
    assert plugin._cost.writer_seconds > 0
    assert warnings == []
    plugin._store.close()


def test_when_the_writer_dies_the_callback_records_in_its_own_process_and_says_so(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    plugin, warnings = _callback_with_writer(state)
    plugin.v2_runner_on_ok(_installed_probe("pc-1"))
    plugin._recorder.sync()
    plugin._recorder._process.kill()
    plugin._recorder._process.wait()
    plugin.v2_runner_on_ok(_installed_probe("pc-2"))
    assert _installed(state) == {"pc-1", "pc-2"}
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "agentroll coverage: the store writer stopped (the writer exited with code -9)"
    )
    plugin._store.close()


def test_results_sent_to_a_writer_that_cannot_open_the_store_are_recorded_by_the_callback(
    tmp_path: Path,
) -> None:
    """The store failed between the callback's own open and the writer's: nothing sent is lost."""
    state = tmp_path / "state.sqlite"
    (tmp_path / "a-file").write_text("not a folder")
    plugin, warnings = _callback_with_writer(state, writer_state=tmp_path / "a-file" / "state.sqlite")
    _three_results_then_the_end(plugin)
    assert _installed(state) == {"pc-1", "pc-2", "pc-3"}
    assert _run_statuses(state) == ["ok"]
    assert len(warnings) == 1
    # Which call finds the writer gone (a result, the finish or the close) depends on its timing.
    assert warnings[0].startswith("agentroll coverage: the store writer stopped (the writer ")
    assert warnings[0].endswith("); recording in this process from now on")
    plugin._store.close()


def test_a_writer_that_cannot_start_leaves_the_recording_to_the_callback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.sqlite"
    warnings: list[str] = []
    plugin = _load_plugin().CallbackModule()
    plugin._display = SimpleNamespace(warning=warnings.append)
    plugin.get_option = {"state": str(state), "writer": True}.get
    plugin._run_info = lambda: RunInfo("site.yml", pid=os.getpid())
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    plugin._open()
    plugin.v2_runner_on_ok(_installed_probe("pc-1"))
    assert _installed(state) == {"pc-1"}
    assert len(warnings) == 1
    assert warnings[0].startswith("agentroll coverage: the store writer did not start (")
    assert warnings[0].endswith("); recording in this process")
    plugin._store.close()
