"""The agent_package action refuses, in one line, an install it could not tell had happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentroll.sim.testing import run_ansible

pytestmark = [pytest.mark.integration]

PLAYBOOK = """\
- name: An install with nothing to tell it by
  hosts: all
  gather_facts: false
  tasks:
    - name: Install the agent package
      agentroll.toolkit.agent_package:
        src: /nonexistent/agent.msi
        dest: C:\\\\Windows\\\\Temp\\\\agent.msi
        checksum: "0000"
"""


def test_without_product_id_or_service_the_action_says_which_arguments_it_needs(tmp_path: Path) -> None:
    playbook = tmp_path / "bare.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    result = run_ansible(["ansible-playbook", str(playbook), "-c", "local"], inventory="localhost,")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "agent_package: give product_id or creates_service" in result.stdout
