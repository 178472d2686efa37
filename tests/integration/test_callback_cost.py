"""The coverage callback's count of its own CPU (its ``cost_file``, read by ``make bench``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentroll.sim.testing import run_ansible

pytestmark = [pytest.mark.integration]

PLAYBOOK = """\
- name: Two tasks
  hosts: all
  gather_facts: false
  tasks:
    - name: Say something
      ansible.builtin.debug:
        msg: first
    - name: Skip something
      ansible.builtin.debug:
        msg: never
      when: false
"""


def run(tmp_path: Path, cost_file: Path) -> str:
    playbook = tmp_path / "two.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    result = run_ansible(
        ["ansible-playbook", str(playbook), "-c", "local"],
        inventory="localhost,",
        env={
            "AGENTROLL_STATE": str(tmp_path / "state.sqlite"),
            "AGENTROLL_REPORT_DIR": str(tmp_path / "reports"),
            "AGENTROLL_CALLBACK_COST": str(cost_file),
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_the_callback_counts_its_cpu_per_event_and_apart_its_fixed_work(tmp_path: Path) -> None:
    cost_file = tmp_path / "cost.json"
    run(tmp_path, cost_file)
    cost = json.loads(cost_file.read_text(encoding="utf-8"))
    # One host: the first task's start and result, the second's start and skip.
    events = cost["events"]
    assert (events["start"]["count"], events["result"]["count"]) == (2, 2)
    assert min(events["start"]["page_faults"], events["result"]["page_faults"]) >= 0
    # Ansible's building of each result for the callback is a part of the results' handlers.
    assert 0 < cost["ansible_copy_seconds"] < events["result"]["seconds"]
    # Loading agentroll alone takes CPU; four events of a debug task take less than that.
    assert 0 < events["start"]["seconds"] + events["result"]["seconds"] < cost["fixed_seconds"]
    # ansible-playbook's own process: at least the callback's work, and Python with Ansible loaded.
    main = cost["main_process"]
    assert main["user_seconds"] + main["system_seconds"] > cost["fixed_seconds"]
    assert main["peak_rss_kb"] > 30 * 1024


def test_a_cost_file_that_cannot_be_written_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    output = run(tmp_path, tmp_path / "missing-folder" / "cost.json")
    assert "agentroll coverage: writing the callback's CPU cost: FileNotFoundError" in output
    assert "first" in output
