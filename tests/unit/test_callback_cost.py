"""The coverage callback's count of its own CPU: without per-thread page faults, and when it is off."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "callback" / "coverage.py"


def _load_plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agentroll_coverage_callback_cost", PLUGIN)
    assert spec is not None and spec.loader is not None
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    return plugin


def test_without_per_thread_page_faults_events_are_still_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = _load_plugin()
    monkeypatch.setattr(plugin, "RUSAGE_THREAD", None)  # macOS has no RUSAGE_THREAD
    cost = plugin.CpuCost()
    cost.per_event = True
    mark = cost.start()
    sum(range(100_000))
    cost.stop("result", mark)
    with cost.fixed():
        pass
    result = cost.as_dict()["events"]["result"]
    assert (result["count"], result["page_faults"]) == (1, 0)
    assert result["seconds"] > 0


def test_events_are_not_timed_unless_the_cost_is_written() -> None:
    plugin = _load_plugin()
    cost = plugin.CpuCost()
    cost.stop("result", cost.start())
    assert cost.as_dict()["events"] == {}
