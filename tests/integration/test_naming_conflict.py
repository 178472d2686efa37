"""Conflicting or invalid standard names stop rename.yml before any PC is touched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentroll.sim.testing import running_fleet
from tests.integration.support import District, Pc, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

UNITS = {"ubnd": {"code": "UBNDXA", "name": "UBND xã Đăk Long", "licenses": 3}}


def _pcs(first_override: str, second_override: str) -> list[Pc]:
    return [
        Pc("xa-01", "ubnd", {"computer_name": "MAYKETOAN"}, {"agentroll_standard_name": first_override}),
        Pc("xa-02", "ubnd", {"computer_name": "MAYVANTHU"}, {"agentroll_standard_name": second_override}),
        Pc("xa-03", "ubnd", {"computer_name": "mayphuong"}, {"agentroll_owner": "Lê Thị Phương"}),
    ]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("naming")
    results: dict[str, Any] = {}
    cases = {"collision": ("UBNDXA-KT", "ubndxa-kt"), "invalid": ("UBNDXA-KT", "-NOT_VALID-")}
    for case, overrides in cases.items():
        pcs = _pcs(*overrides)
        with running_fleet(fleet_spec(pcs), transport="basic") as handle:
            inventory = write_inventory(handle, workdir / case, pcs, UNITS)
            district = District(handle, inventory, workdir / f"{case}-run")
            marks = district.journal_marks()
            run = district.play("rename.yml", "-e", "agentroll_reboot=never")
            names = [handle.fleet.host(address).computer_name for address in handle.addresses]
            results[case] = {"run": run, "mutations": district.mutations_since(marks), "names": names}
    yield results


@pytest.mark.parametrize("case", ["collision", "invalid"])
def test_bad_names_stop_the_play_before_any_host_is_touched(runs: dict[str, Any], case: str) -> None:
    result = runs[case]
    run = result["run"]
    assert run.returncode != 0
    assert "standard name" in run.output
    assert result["mutations"] == []
    assert result["names"] == ["MAYKETOAN", "MAYVANTHU", "mayphuong"]
    assert "win_hostname" not in run.stdout.lower() or "Set the computer name" not in run.stdout
