"""The coverage callback's reports at the end of a run: a format it cannot write costs only itself."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from agentroll.benchmarks.store import synthetic_district
from agentroll.observe import Status, TaskOutcome
from agentroll.recorder import InProcessRecorder, RunInfo
from agentroll.store import open_store
from tests.unit.test_callback_signals import _load_plugin


def test_a_workbook_that_cannot_be_written_is_one_warning_and_the_other_reports_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = synthetic_district(4, per_unit=2)
    store = open_store(tmp_path / "state.sqlite")
    recorder = InProcessRecorder(store, lambda: RunInfo("verify.yml", pid=os.getpid()))
    probe = {"computer_name": "PC-1", "agent": {"installed": True}}
    recorder.outcome(TaskOutcome(inventory.hosts[0].name, "probe", Status.OK, probe, task="Probe"))
    recorder.finish("ok")
    warnings: list[str] = []
    plugin = _load_plugin().CallbackModule()
    plugin._display = SimpleNamespace(warning=warnings.append)
    plugin._store, plugin._inventory = store, inventory
    reports = tmp_path / "reports"
    options = {"report_dir": str(reports), "report_formats": ["json", "xlsx", "html"], "show_table": False}
    plugin.get_option = lambda name: options.get(name)
    # openpyxl's write-only sheets go through temporary files: a temporary folder that is not there.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))

    plugin._report()

    assert sorted(path.name for path in reports.iterdir()) == [
        "coverage.html",
        "coverage.json",
        "stragglers.txt",
    ]
    assert json.loads((reports / "coverage.json").read_text(encoding="utf-8"))["totals"]["installed"] == 1
    assert len(warnings) == 1
    assert warnings[0].startswith("agentroll coverage: report format 'xlsx' not written: ")
    assert "no-such-folder" in warnings[0]
    store.close()
