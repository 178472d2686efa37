"""The province: the simulated province's generator and the roll-up province → district → unit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from agentroll import cli
from agentroll.model import Host, Inventory, Letter, Unit
from agentroll.naming import standard_names
from agentroll.report import SCHEMA_PATH, build_report
from agentroll.rollup import DistrictReport, add_totals, district_name, province_report
from agentroll.sim import province
from agentroll.sim.fleet import Fleet
from agentroll.store import Store

WHEN = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
CONNECTION = {"ansible_connection": "winrm", "ansible_port": 5985}


def test_the_province_is_ten_districts_of_192_pcs_each_and_the_same_every_time() -> None:
    districts = province.build_province()
    assert [district.name for district in districts][:2] == ["Kon Plông", "Kon Rẫy"]
    assert [len(district.hosts) for district in districts] == [192] * 10
    hosts = [host for district in districts for host in district.hosts]
    for attribute in ("name", "address", "mac"):
        assert len({getattr(host, attribute) for host in hosts}) == 1920, attribute
    assert hosts[0].name == "konplong-vp-01" and hosts[-1].address == "127.20.7.170"
    # The fleet holds exactly the province's PCs: the simulator refuses an address given twice.
    fleet = Fleet.from_mapping(province.fleet_document(districts))
    assert sorted(fleet.addresses()) == sorted(host.address for host in hosts)
    assert [host.machine for host in province.build_province()[3].hosts] == [
        host.machine for host in districts[3].hosts
    ]
    # Districts differ (each its own seed), beyond their host names.
    first, second = (tuple(host.machine["computer_name"] for host in d.hosts) for d in districts[:2])
    assert first != second


def test_a_province_has_one_to_ten_districts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a province has 1 to 10 districts, not 11"):
        province.build_province(11)
    with pytest.raises(SystemExit):
        province.main([str(tmp_path), "--districts", "0"])
    assert "a province has 1 to 10 districts, not 0" in capsys.readouterr().err


def _write_small_province(directory: Path) -> list[Path]:
    districts = province.build_province(districts=2, units=2)
    return province.write_province(directory, districts, CONNECTION)


def _empty_store(tmp_path: Path) -> str:
    path = tmp_path / "state.sqlite"
    Store(path).close()
    return str(path)


def test_report_with_one_inventory_per_district_rolls_them_up(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, second = _write_small_province(tmp_path / "kontum")
    state = _empty_store(tmp_path)
    arguments = ["report", "-i", str(first), "-i", str(second), "--state", state]
    assert cli.main([*arguments, "--format", "json"]) == 0
    rollup = json.loads(capsys.readouterr().out)
    jsonschema.validate(rollup, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    assert [(part["district"], part["totals"]["hosts"]) for part in rollup["districts"]] == [
        ("Kon Plông", 24),
        ("Kon Rẫy", 24),
    ]
    assert rollup["totals"]["hosts"] == 48 and rollup["totals"]["licenses"] == 2 * (16 + 6)
    assert [(unit["district"], unit["code"]) for unit in rollup["units"]] == [
        ("Kon Plông", "VP"),
        ("Kon Plông", "NV"),
        ("Kon Rẫy", "VP"),
        ("Kon Rẫy", "NV"),
    ]

    assert cli.main(arguments) == 0
    header, _rule, *lines = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "district",
        "licenses",
        "PCs",
        "installed",
        "coverage",
        "%",
        "remaining",
        "stragglers",
    ]
    assert [line.split()[-6:] for line in lines] == [
        ["22", "24", "0", "0.0", "22", "24"],
        ["22", "24", "0", "0.0", "22", "24"],
        ["44", "48", "0", "0.0", "44", "48"],
    ]
    assert lines[-1].startswith("total")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "html"], "a report of several inventories is text or json, without --unit"),
        (["--unit", "VP"], "a report of several inventories is text or json, without --unit"),
    ],
)
def test_a_rollup_is_text_or_json_for_the_whole_province(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], message: str
) -> None:
    first, second = _write_small_province(tmp_path / "kontum")
    status = cli.main(
        ["report", "-i", str(first), "-i", str(second), "--state", _empty_store(tmp_path), *extra]
    )
    assert status == 2
    assert message in capsys.readouterr().err


def test_the_same_district_twice_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, _ = _write_small_province(tmp_path / "kontum")
    status = cli.main(["report", "-i", str(first), "-i", str(first), "--state", _empty_store(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err
    assert f"district 'Kon Plông' is given twice ({first})" in err and len(err.strip().splitlines()) == 1


def _district(name: str | None, hosts: tuple[str, ...], licenses: int = 2) -> Inventory:
    return Inventory(
        units=(Unit("VP", "Văn phòng", licenses, "vp"),),
        hosts=tuple(Host(host, "VP") for host in hosts),
        letter=Letter(district=name),
    )


def _report(inventory: Inventory) -> DistrictReport:
    report = build_report(inventory, {}, names=standard_names(inventory), generated_at=WHEN)
    return DistrictReport(inventory.letter.district or "?", "inventory", report)


def test_a_host_name_in_two_districts_is_refused() -> None:
    parts = [_report(_district("Kon Plông", ("vp-01", "vp-02"))), _report(_district("Kon Rẫy", ("vp-02",)))]
    with pytest.raises(
        ValueError, match="host vp-02 is in districts 'Kon Plông' and 'Kon Rẫy': host names must"
    ):
        province_report(parts)


def test_a_province_report_needs_a_district() -> None:
    with pytest.raises(ValueError, match="at least one district"):
        province_report([])


def test_totals_add_up_and_coverage_is_recomputed() -> None:
    parts = [
        {"licenses": 3, "installed": 1, "coverage_pct": 33.3, "states": {"compliant": 1, "unknown": 2}},
        {"licenses": 1, "installed": 1, "coverage_pct": 100.0, "states": {"compliant": 1, "unknown": 0}},
    ]
    assert add_totals(parts) == {
        "licenses": 4,
        "installed": 2,
        "coverage_pct": 50.0,
        "states": {"compliant": 2, "unknown": 2},
    }


def test_the_official_figure_adds_up_each_districts_own_and_its_percentage_is_recomputed() -> None:
    parts = [
        {
            "licenses": 4,
            "installed": 3,
            "coverage_pct": 75.0,
            "official_installed": 2,
            "official_coverage_pct": 50.0,
        },
        {
            "licenses": 4,
            "installed": 1,
            "coverage_pct": 25.0,
            "official_installed": 1,
            "official_coverage_pct": 25.0,
        },
    ]
    totals = add_totals(parts)
    assert (totals["official_installed"], totals["official_coverage_pct"]) == (3, 37.5)
    assert (totals["installed"], totals["coverage_pct"]) == (4, 50.0)


def test_a_districts_name_is_agentroll_district_else_its_directory(tmp_path: Path) -> None:
    (tmp_path / "dakha").mkdir()
    assert district_name(_district("Đăk Hà", ()), tmp_path / "dakha") == "Đăk Hà"
    assert district_name(_district(None, ()), tmp_path / "dakha") == "dakha"
    assert district_name(_district(None, ()), tmp_path / "dakha" / "hosts.yml") == "dakha"
