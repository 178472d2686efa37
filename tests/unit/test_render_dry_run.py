"""The dry run's lines, rendered from a real plan in both languages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from probe_samples import REQUIREMENTS, probe_result

from agentroll.model import Host, Inventory, Unit
from agentroll.plan import build_plan
from agentroll.reports.dry_run import render_dry_run

INVENTORY = Inventory(
    units=(Unit("SNV", "Phòng Nội vụ", 2, "phong_noi_vu"), Unit("XA", "UBND xã Hiếu", 1, "xa_hieu")),
    hosts=(
        Host("snv-01", "SNV", owner="Nguyễn Thị Phương"),
        Host("snv-02", "SNV", owner="Phạm Văn Thắng"),
        Host("snv-03", "SNV"),
        Host("snv-04", "SNV"),
        Host("xa-01", "XA"),
        Host("xa-02", "XA"),
    ),
)
RUNNING = {"installed": True, "service_state": "running", "service_start_mode": "auto"}
MISSING = {"installed": False, "service_state": "missing"}
PROBES = {
    "snv-01": probe_result("MAYPHUONG", RUNNING),
    "snv-02": probe_result("SNV-THANGPV", MISSING),
    "snv-03": probe_result("DESKTOP-7F3K2LQ", MISSING),
    "snv-04": probe_result("KETOAN-PC", MISSING, ram_mb=1024),
    "xa-01": probe_result("XA-PC01", MISSING, ram_mb=1024),
}
PLAY_HOSTS = ["snv-01", "snv-02", "snv-03", "snv-04", "xa-01", "xa-02"]


@pytest.fixture(scope="module")
def planned() -> dict[str, Any]:
    # Through JSON, as the action hands it to Ansible.
    return json.loads(json.dumps(build_plan(INVENTORY, PROBES, {}, REQUIREMENTS).as_dict()))


def test_english_lines_say_verdict_license_rename_and_advice(planned: dict[str, Any]) -> None:
    assert render_dry_run(planned, PLAY_HOSTS, set(PROBES)) == [
        "snv-01 [SNV]: agent installed, rename MAYPHUONG -> SNV-PHUONGNT",
        "snv-02 [SNV]: eligible, will install",
        # Misnamed, but without the agent now or in this run: out of the rename scope.
        "snv-03 [SNV]: eligible, waiting for a license: SNV has 2 licenses, 3 eligible PCs, "
        "not renamed: the agent is not on it and this run does not install it",
        "snv-04 [SNV]: INELIGIBLE: RAM 1024 MB < 2048 MB, "
        "not renamed: the agent is not on it and this run does not install it",
        "xa-01 [XA]: INELIGIBLE: RAM 1024 MB < 2048 MB",
        "xa-02 [XA]: not probed (unreachable or unmanageable: see above)",
        "would install on 1 PC(s), rename 1 PC(s)",
        "would rename: snv-01",
        "would reboot (policy agentroll_reboot; an installer may ask for more): snv-01",
        "reallocation advice: none",
    ]


def test_vietnamese_lines(planned: dict[str, Any]) -> None:
    assert render_dry_run(planned, PLAY_HOSTS, set(PROBES), lang="vi") == [
        "snv-01 [SNV]: đã cài đặt phần mềm, đổi tên MAYPHUONG -> SNV-PHUONGNT",
        "snv-02 [SNV]: đủ điều kiện, sẽ cài đặt",
        "snv-03 [SNV]: đủ điều kiện, Chờ cấp bản quyền: đơn vị SNV có 2 bản quyền nhưng 3 máy đủ điều kiện, "
        "Không đổi tên: máy chưa có phần mềm giám sát và lần chạy này không cài",
        "snv-04 [SNV]: KHÔNG ĐỦ ĐIỀU KIỆN: Bộ nhớ RAM 1024 MB, yêu cầu tối thiểu 2048 MB, "
        "Không đổi tên: máy chưa có phần mềm giám sát và lần chạy này không cài",
        "xa-01 [XA]: KHÔNG ĐỦ ĐIỀU KIỆN: Bộ nhớ RAM 1024 MB, yêu cầu tối thiểu 2048 MB",
        "xa-02 [XA]: chưa kiểm tra được (không kết nối được hoặc không quản lý từ xa được: xem ở trên)",
        "sẽ cài đặt trên 1 máy, đổi tên 1 máy",
        "sẽ đổi tên: snv-01",
        "sẽ khởi động lại (theo agentroll_reboot; bộ cài có thể yêu cầu thêm): snv-01",
        "đề xuất điều chuyển bản quyền: không có",
    ]


def test_each_advised_move_is_a_line(planned: dict[str, Any]) -> None:
    moved = {**planned, "reallocation": [{"from": "XA", "to": "SNV", "licenses": 1}]}
    assert render_dry_run(moved, [], set())[-1] == "reallocation advice: move 1 license(s) from XA to SNV"
    assert render_dry_run(moved, [], set(), lang="vi")[-1] == (
        "đề xuất điều chuyển 1 bản quyền từ đơn vị XA sang đơn vị SNV"
    )


def test_licenses_to_return_are_a_line(planned: dict[str, Any]) -> None:
    returned = {**planned, "returnable": [{"unit": "XA", "licenses": 2}]}
    assert render_dry_run(returned, [], set())[-1] == (
        "reallocation advice: return 2 license(s) of XA to the district (no unit needs them)"
    )
    assert render_dry_run(returned, [], set(), lang="vi")[-1] == (
        "đề xuất trả lại huyện 2 bản quyền của đơn vị XA (không đơn vị nào cần)"
    )
    assert "reallocation advice: none" not in render_dry_run(returned, [], set())


def test_the_plan_advises_returns_by_the_contract() -> None:
    """A unit with licenses for PCs it has not reached keeps them; what nobody needs is returned."""
    inventory = Inventory(
        units=(Unit("SNV", "Phòng Nội vụ", 5, "phong_noi_vu"), Unit("XA", "UBND xã Hiếu", 1, "xa_hieu")),
        hosts=(Host("snv-01", "SNV"), Host("snv-02", "SNV"), Host("snv-03", "SNV"), Host("xa-01", "XA")),
    )
    probes = {"snv-01": probe_result("SNV-PC01", MISSING)}  # snv-02 and snv-03 are off: not known yet
    planned = build_plan(inventory, probes, {}, REQUIREMENTS).as_dict()
    assert planned["reallocation"] == []
    # SNV: 5 licenses - 1 eligible - 2 not known yet = 2 spare; XA: 1 license, xa-01 not known yet.
    assert planned["returnable"] == [{"unit": "SNV", "licenses": 2}]
