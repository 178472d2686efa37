"""The coverage report: arithmetic, stragglers, history, the JSON schema, the golden file, atomic writes."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agentroll import naming
from agentroll.model import Aspect, HostState, Inventory
from agentroll.reasons import Reason
from agentroll.report import SCHEMA_PATH, build_report, report_from_store, to_json, write_atomic
from agentroll.reports import render
from agentroll.store import Store
from agentroll.store.coordination import Attempt

GOLDEN = Path(__file__).parent / "golden" / "report.json"
GOLDEN_TEXT = Path(__file__).parent / "golden" / "report.txt"
#: Set AGENTROLL_UPDATE_GOLDEN=1 to rewrite the golden files from the current output (then review the diff).
UPDATE_GOLDEN = os.environ.get("AGENTROLL_UPDATE_GOLDEN") == "1"


@pytest.fixture
def report(tiny_inventory: Inventory, tiny_store: Store, tiny_times: dict[str, datetime]) -> dict[str, Any]:
    return report_from_store(tiny_inventory, tiny_store, now=tiny_times["generated_at"])


def by_key(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def validate(report: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
    validator.validate(report)


def test_host_states_follow_the_recorded_history(report: dict[str, Any]) -> None:
    states = {host["host"]: host["state"] for host in report["hosts"]}
    assert states == {
        "tp-01": "unreachable",
        "tp-02": "failed",
        "vp-01": "compliant",
        "vp-02": "misnamed",
        "vp-03": "ineligible",
        "vp-04": "not_installed",
        "vp-05": "unknown",
        "vp-06": "not_installed",
        "xa-01": "unmanageable",
        "xa-02": "agent_unhealthy",
    }


def test_totals_and_unit_arithmetic(report: dict[str, Any]) -> None:
    totals = report["totals"]
    # Installed: vp-01, vp-02, xa-02, and tp-01 (unreachable today, installed when last seen).
    assert (totals["licenses"], totals["hosts"]) == (9, 10)
    assert (totals["installed"], totals["coverage_pct"]) == (4, 44.4)
    assert list(totals["states"]) == [state.value for state in HostState]
    assert totals["states"]["not_installed"] == 2 and totals["states"]["reboot_pending"] == 0
    assert sum(totals["states"].values()) == 10
    units = by_key(report["units"], "code")
    assert [unit["code"] for unit in report["units"]] == ["VP", "TP", "XA"]  # inventory order
    vp, tp, xa = units["VP"], units["TP"], units["XA"]
    assert (vp["licenses"], vp["hosts"], vp["installed"], vp["coverage_pct"]) == (4, 6, 2, 50.0)
    assert (tp["installed"], tp["coverage_pct"]) == (1, 33.3)
    assert (xa["installed"], xa["coverage_pct"]) == (1, 50.0)
    assert vp["name"] == "Văn phòng UBND"
    assert vp["states"]["ineligible"] == 1 and sum(vp["states"].values()) == 6


def test_eligible_unknown_usable_and_the_license_advice(report: dict[str, Any]) -> None:
    units = by_key(report["units"], "code")
    # Eligible: installed or checked eligible. Unknown: never probed (vp-05). Usable: the two.
    assert {code: unit["eligible"] for code, unit in units.items()} == {"VP": 4, "TP": 2, "XA": 1}
    assert {code: unit["unknown"] for code, unit in units.items()} == {"VP": 0 + 1, "TP": 0, "XA": 0}
    assert {code: unit["usable"] for code, unit in units.items()} == {"VP": 5, "TP": 2, "XA": 1}
    # VP has 4 licenses for 4 known-eligible PCs: it needs none, whatever vp-05 turns out to be
    # (the contract; before, vp-05 counted as demand and TP's spare license was moved to VP).
    assert report["reallocation"] == []
    # TP and XA each have a license that no unit needs: returnable to the district.
    assert report["returnable"] == [{"unit": "TP", "licenses": 1}, {"unit": "XA", "licenses": 1}]
    assert {code: unit["unused_licenses"] for code, unit in units.items()} == {"VP": 0, "TP": 1, "XA": 1}
    totals = report["totals"]
    assert (totals["eligible"], totals["unknown"], totals["usable"], totals["unused_licenses"]) == (
        7,
        1,
        8,
        2,
    )


def test_deadlines_and_risk(report: dict[str, Any]) -> None:
    assert (report["deadline"], report["days_left"]) == ("2026-12-31", 26)
    units = by_key(report["units"], "code")
    assert (units["VP"]["deadline"], units["VP"]["days_left"]) == ("2026-12-31", 26)
    assert (units["XA"]["deadline"], units["XA"]["days_left"]) == ("2026-12-01", -4)
    # Still to finish: min(licenses, usable) - compliant PCs. VP min(4, 5) - 1, TP min(3, 2) - 0,
    # XA min(2, 1) - 0 (xa-02's agent is not running).
    assert {code: unit["remaining"] for code, unit in units.items()} == {"VP": 3, "TP": 2, "XA": 1}
    # At risk: not finished and the deadline at most 7 days away (the default) or past. VP and TP have
    # 26 days left; XA's deadline passed 4 days ago.
    assert report["deadline_warning_days"] == 7
    assert {code: unit["will_miss_deadline"] for code, unit in units.items()} == {
        "VP": False,
        "TP": False,
        "XA": True,
    }


# VP and TP have 26 days left, XA's deadline passed: a past deadline is always a risk.
@pytest.mark.parametrize(("warning_days", "at_risk"), [(0, ["XA"]), (25, ["XA"]), (26, ["TP", "VP", "XA"])])
def test_the_warning_threshold_is_the_inventorys(
    tiny_inventory: Inventory, tiny_store: Store, warning_days: int, at_risk: list[str]
) -> None:
    inventory = dataclasses.replace(tiny_inventory, deadline_warning_days=warning_days)
    report = report_from_store(inventory, tiny_store, now=datetime(2026, 12, 5, 8, 0, tzinfo=UTC))
    assert report["deadline_warning_days"] == warning_days
    assert sorted(unit["code"] for unit in report["units"] if unit["will_miss_deadline"]) == at_risk


def test_a_finished_unit_is_never_at_risk(tiny_inventory: Inventory, tiny_store: Store) -> None:
    """XA past its deadline with nothing left to do: not at risk."""
    xa = dataclasses.replace(tiny_inventory.unit("XA"), licenses=0)
    units = tuple(xa if unit.code == "XA" else unit for unit in tiny_inventory.units)
    inventory = dataclasses.replace(tiny_inventory, units=units)
    report = report_from_store(inventory, tiny_store, now=datetime(2026, 12, 5, 8, 0, tzinfo=UTC))
    unit = by_key(report["units"], "code")["XA"]
    assert (unit["days_left"], unit["remaining"], unit["will_miss_deadline"]) == (-4, 0, False)


@pytest.mark.parametrize(
    ("zone", "days_left"),
    [
        # 20:00 UTC on 5 December is already 6 December in Vietnam.
        (None, 25),
        ("UTC", 26),
    ],
)
def test_days_left_count_from_the_districts_local_date(
    tiny_inventory: Inventory, tiny_store: Store, zone: str | None, days_left: int
) -> None:
    inventory = dataclasses.replace(tiny_inventory, timezone=zone)
    report = report_from_store(inventory, tiny_store, now=datetime(2026, 12, 5, 20, 0, tzinfo=UTC))
    assert (report["timezone"], report["days_left"]) == (zone or "Asia/Ho_Chi_Minh", days_left)
    assert report["generated_at"] == "2026-12-05T20:00:00Z"


def test_no_deadline_means_no_risk(tiny_inventory: Inventory, tiny_store: Store) -> None:
    undated = Inventory(  # no deadline anywhere
        units=tuple(dataclasses.replace(unit, deadline=None) for unit in tiny_inventory.units),
        hosts=tiny_inventory.hosts,
    )
    report = report_from_store(undated, tiny_store, now=datetime(2026, 12, 5, tzinfo=UTC))
    assert report["deadline"] is None and report["days_left"] is None
    assert not any(unit["will_miss_deadline"] for unit in report["units"])


def test_stragglers_exclude_done_ineligible_unmanageable_and_license_waiting(report: dict[str, Any]) -> None:
    assert report["stragglers"] == ["tp-01", "tp-02", "vp-02", "vp-05", "xa-02"]


def test_a_misnamed_pc_out_of_the_rename_scope_is_no_straggler(
    tiny_inventory: Inventory, tiny_store: Store, tiny_times: dict[str, datetime]
) -> None:
    # vp-02 is misnamed; the latest plan kept its name: a server without the opt-in.
    at = tiny_times["run2"] + timedelta(hours=1)
    run = tiny_store.start_run("deploy.yml", inventory="tiny", started_at=at)
    withheld = Reason("rename_server", {"product_type": "server"}).as_value()
    tiny_store.record(run, "vp-02", [(Aspect.RENAME_SCOPE, {"withheld": withheld})], at)
    tiny_store.finish_run(run, "ok", finished_at=at)
    report = report_from_store(tiny_inventory, tiny_store, now=at + timedelta(minutes=1))
    validate(report)
    host = by_key(report["hosts"], "host")["vp-02"]
    assert host["state"] == "misnamed"
    assert host["causes"][1] == withheld
    assert host["next_step"] == {"code": "next_rename_server_or_by_hand", "product_type": "server"}
    assert "vp-02" not in report["stragglers"]
    assert report["totals"]["installed"] == 4  # it still counts: the agent runs on it

    # The next plan (the inventory opted in) may rename it: a straggler again.
    later = at + timedelta(hours=1)
    run = tiny_store.start_run("deploy.yml", inventory="tiny", started_at=later)
    tiny_store.record(run, "vp-02", [(Aspect.RENAME_SCOPE, {"withheld": None})], later)
    tiny_store.finish_run(run, "ok", finished_at=later)
    report = report_from_store(tiny_inventory, tiny_store, now=later + timedelta(minutes=1))
    host = by_key(report["hosts"], "host")["vp-02"]
    assert host["next_step"] == {"code": "next_rename"}
    assert "vp-02" in report["stragglers"]


def test_host_rows(report: dict[str, Any]) -> None:
    assert [host["host"] for host in report["hosts"]] == [
        "tp-01",
        "tp-02",
        "vp-01",
        "vp-02",
        "vp-03",
        "vp-04",
        "vp-05",
        "vp-06",
        "xa-01",
        "xa-02",
    ]
    hosts = by_key(report["hosts"], "host")
    vp01 = hosts["vp-01"]
    assert vp01["standard_name"] == "VP-THANGPV" and vp01["computer_name"] == "vp-thangpv"
    assert (vp01["owner"], vp01["address"], vp01["license"]) == ("Phạm Văn Thắng", "192.0.2.1", "granted")
    assert vp01["last_seen"] == "2026-12-02T09:10:00Z" and vp01["knowledge_age_days"] == 2
    assert hosts["vp-02"]["reasons"] == ['computer name "MAYPHUONG" != standard "VP-PHUONGNT"']
    assert hosts["vp-03"]["reasons"] == ["RAM 1024 MB < 2048 MB"]
    assert hosts["vp-04"]["license"] == "waiting"
    assert hosts["vp-05"] | {} == {
        **hosts["vp-05"],
        "state": "unknown",
        "last_seen": None,
        "license": None,
        "knowledge_age_days": None,
        "computer_name": None,
        "reasons": [],
    }
    # tp-01's agent knowledge dates from run 1 (4 days 23 hours before the report).
    assert hosts["tp-01"]["knowledge_age_days"] == 4
    assert hosts["tp-01"]["reasons"] == ["connection timed out"]
    assert hosts["tp-01"]["last_seen"] == "2026-11-30T09:05:00Z"  # the timed-out attempt is not a sighting
    assert hosts["tp-02"]["reasons"] == ["install agent: installer exit code 1603"]


def test_host_causes_are_the_reasons_as_data_in_the_same_order(report: dict[str, Any]) -> None:
    hosts = by_key(report["hosts"], "host")
    assert hosts["vp-03"]["causes"] == [{"code": "ram", "measured": 1024, "required": 2048}]
    assert hosts["vp-04"]["causes"] == [
        {"code": "license_waiting", "unit": "VP", "licenses": 4, "eligible": 5}
    ]
    assert hosts["vp-04"]["reasons"] == ["waiting for a license: VP has 4 licenses, 5 eligible PCs"]
    assert hosts["vp-02"]["causes"] == [
        {"code": "name_mismatch", "computer_name": "MAYPHUONG", "standard_name": "VP-PHUONGNT"}
    ]
    # Sentences the store holds (older stores, contact causes) stay sentences.
    assert hosts["tp-01"]["causes"] == [{"code": "text", "text": "connection timed out"}]
    assert hosts["tp-02"]["causes"] == [
        {
            "code": "step_failed",
            "step": "install agent",
            "error": {"code": "text", "text": "installer exit code 1603"},
        }
    ]
    for host in report["hosts"]:
        assert [Reason.from_value(cause).english() for cause in host["causes"]] == host["reasons"]


def test_the_report_says_its_minor_version_and_time_zone(report: dict[str, Any]) -> None:
    assert (report["schema"], report["schema_minor"], report["timezone"]) == (
        "agentroll.coverage/1",
        6,
        "Asia/Ho_Chi_Minh",
    )


def test_history_is_coverage_as_of_each_run(report: dict[str, Any]) -> None:
    assert report["history"] == [
        {
            "run_id": 1,
            "playbook": "preflight.yml",
            "started_at": "2026-11-30T09:00:00Z",
            "finished_at": "2026-11-30T09:06:00Z",
            "status": "ok",
            "check_mode": False,
            "operator": "Phạm Văn Thắng",
            "installed": 2,
            "coverage_pct": 22.2,
        },
        {
            "run_id": 2,
            "playbook": "deploy.yml",
            "started_at": "2026-12-02T09:00:00Z",
            "finished_at": "2026-12-02T09:11:00Z",
            "status": "failed",
            "check_mode": False,
            "operator": "AWX job 7 (https://awx.konplong.example)",
            "installed": 4,
            "coverage_pct": 44.4,
        },
    ]


def test_report_validates_against_the_schema(report: dict[str, Any]) -> None:
    validate(report)


def test_empty_store_every_host_unknown(tiny_inventory: Inventory, tmp_path: Path) -> None:
    with Store(tmp_path / "empty.sqlite") as store:
        report = report_from_store(tiny_inventory, store, now=datetime(2026, 11, 29, tzinfo=UTC))
    validate(report)
    assert report["totals"]["installed"] == 0 and report["totals"]["coverage_pct"] == 0.0
    assert report["totals"]["states"]["unknown"] == 10
    assert report["history"] == []
    assert len(report["stragglers"]) == 10


def test_build_report_is_the_pure_core(tiny_inventory: Inventory) -> None:
    names = {host.name: f"{host.unit}-X{index}" for index, host in enumerate(tiny_inventory.hosts)}
    report = build_report(tiny_inventory, {}, names=names, generated_at=datetime(2026, 11, 29, tzinfo=UTC))
    assert by_key(report["hosts"], "host")["vp-01"]["standard_name"] == names["vp-01"]
    with pytest.raises(ValueError, match="host 'vp-01': no standard name"):
        build_report(tiny_inventory, {}, names={}, generated_at=datetime(2026, 11, 29, tzinfo=UTC))


def test_zero_licenses_is_zero_percent(tiny_inventory: Inventory) -> None:
    units = tuple(dataclasses.replace(unit, licenses=0) for unit in tiny_inventory.units)
    inventory = Inventory(units=units, hosts=tiny_inventory.hosts)
    names = {host.name: "PC" for host in inventory.hosts}
    report = build_report(inventory, {}, names=names, generated_at=datetime(2026, 11, 29, tzinfo=UTC))
    assert report["totals"]["coverage_pct"] == 0.0


def assert_golden(path: Path, text: str) -> None:
    """Compare with a golden file; AGENTROLL_UPDATE_GOLDEN=1 (or a missing file) rewrites it."""
    if UPDATE_GOLDEN or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE_GOLDEN:
            pytest.fail(f"{path} did not exist and was written; review it and run again")
    assert text == path.read_text(encoding="utf-8")


def test_golden_report_json(report: dict[str, Any]) -> None:
    assert_golden(GOLDEN, to_json(report))


def test_golden_report_text(report: dict[str, Any]) -> None:
    """What `agentroll report` prints for the tiny district (the text renderer over this report)."""
    assert_golden(GOLDEN_TEXT, render(report, "text", "en"))


def test_to_json_keeps_vietnamese_and_report_order(report: dict[str, Any]) -> None:
    text = to_json(report)
    assert "Văn phòng UBND" in text and "\\u" not in text
    assert list(json.loads(text)) == list(report)
    assert text.endswith("}\n")


def test_write_atomic_replaces_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    write_atomic(target, "first")
    write_atomic(target, "thứ hai")
    write_atomic(tmp_path / "out" / "report.xlsx", b"\x00\x01binary")
    assert target.read_text(encoding="utf-8") == "thứ hai"
    assert (tmp_path / "out" / "report.xlsx").read_bytes() == b"\x00\x01binary"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json", "report.xlsx"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_write_atomic_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(TypeError):
        write_atomic(target, 12345)  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_the_watchs_attempts_reach_the_host_entry_and_the_stragglers_table(
    tiny_inventory: Inventory, tiny_store: Store, tiny_times: dict[str, datetime]
) -> None:
    since = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    watch, _ = tiny_store.open_watch(
        "tiny", until=since + timedelta(days=3), every_seconds=600, pid=os.getpid(), now=since
    )
    for round_number in range(3):
        tiny_store.record_round(
            watch.id,
            [
                Attempt("tp-01", wake_sent=True, answered=False),
                Attempt("tp-02", wake_sent=False, answered=round_number > 0),
            ],
            now=since + timedelta(minutes=10 * round_number),
        )
    report = report_from_store(tiny_inventory, tiny_store, now=tiny_times["generated_at"])
    validate(report)
    hosts = by_key(report["hosts"], "host")
    assert hosts["tp-01"]["attempts"] == {"count": 3, "answered": 0, "since": "2026-12-02T01:30:00Z"}
    assert hosts["tp-02"]["attempts"] == {"count": 3, "answered": 2, "since": "2026-12-02T01:30:00Z"}
    assert hosts["vp-01"]["attempts"] is None
    # The stragglers' table of the unit views (Markdown, HTML) says it in words.
    english = render(report, "md", "en")
    assert "no answer on 3 of 3 attempts since 2026-12-02" in english
    assert "no answer on 1 of 3 attempts since 2026-12-02" in english
    assert "không trả lời 3/3 lần thử kể từ 02/12/2026" in render(report, "md", "vi")


def test_the_cycle_collector_is_paused_while_the_report_is_built_and_left_as_it_was_found(
    tiny_inventory: Inventory,
    tiny_store: Store,
    tiny_times: dict[str, datetime],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collector_on_while_naming = []
    real_standard_names = naming.standard_names

    def standard_names_noting_the_collector(*arguments: Any) -> dict[str, str]:
        collector_on_while_naming.append(gc.isenabled())
        return real_standard_names(*arguments)

    monkeypatch.setattr(naming, "standard_names", standard_names_noting_the_collector)
    report_from_store(tiny_inventory, tiny_store, now=tiny_times["generated_at"])
    assert collector_on_while_naming == [False] and gc.isenabled()

    unknown_template = dataclasses.replace(tiny_inventory, name_template="{nonsense}")
    with pytest.raises(ValueError):
        report_from_store(unknown_template, tiny_store, now=tiny_times["generated_at"])
    assert gc.isenabled()

    gc.disable()
    try:
        report_from_store(tiny_inventory, tiny_store, now=tiny_times["generated_at"])
        assert not gc.isenabled()
    finally:
        gc.enable()
