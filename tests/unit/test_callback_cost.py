"""The coverage callback's count of its own CPU where the system cannot count page faults per thread."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "callback" / "coverage.py"


def test_without_per_thread_page_faults_events_are_still_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("agentroll_coverage_callback_cost", PLUGIN)
    assert spec is not None and spec.loader is not None
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    monkeypatch.setattr(plugin, "RUSAGE_THREAD", None)  # macOS has no RUSAGE_THREAD
    cost = plugin.CpuCost()
    with cost.event():
        sum(range(100_000))
    with cost.fixed():
        pass
    figures = cost.as_dict()
    assert (figures["events"], figures["event_page_faults"]) == (1, 0)
    assert figures["event_seconds"] > 0
