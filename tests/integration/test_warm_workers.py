"""The warm_workers callback fills its caches in a real ansible-playbook run, enabled by ansible.cfg.

One simulated PC, the real ansible-playbook over WinRM: at -vvv the callback says what it filled
before the first worker was forked, and the run's outcome is the same as without it.
"""

from __future__ import annotations

import pytest

from agentroll.sim.testing import running_fleet
from tests.integration.support import District, Pc, agent_software, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

UNITS = {"vp": {"code": "VP", "name": "Văn phòng HĐND và UBND huyện", "licenses": 1}}
PCS = [Pc("vp-compliant", "vp", {"computer_name": "VP-THANGPV", **agent_software()})]


def test_the_callback_fills_every_cache_before_the_first_fork_and_changes_no_outcome(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("warm")
    with running_fleet(fleet_spec(PCS), transport="basic") as handle:
        district = District(handle, write_inventory(handle, workdir / "inventory", PCS, UNITS), workdir)
        warm = district.play("verify.yml", "-vvv")
        cold = district.play("verify.yml", env={"ANSIBLE_CALLBACKS_ENABLED": "agentroll.toolkit.coverage"})
    assert warm.returncode == cold.returncode == 0, warm.output[-2000:]
    filled = "agentroll warm_workers: filled patterns, filters, result-fields, module-json, plugins"
    assert filled in warm.output
    assert "warm_workers" not in cold.output
    assert warm.report is not None and cold.report is not None
    assert warm.report["totals"] == cold.report["totals"]
    states = [[(h["host"], h["state"]) for h in run.report["hosts"]] for run in (warm, cold)]
    assert states[0] == states[1] == [("vp-compliant", "misnamed")]  # agent fine, name not the standard one
