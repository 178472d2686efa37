"""Translations: catalog completeness and the rules that say the core's reasons in Vietnamese."""

from __future__ import annotations

import pytest

from agentroll.i18n import CATALOG_DIR, catalog, translate_reason

SECTIONS = ("text", "columns", "sheets", "states", "license", "reply")


def _raw(lang: str) -> dict:
    import yaml

    return yaml.safe_load((CATALOG_DIR / f"{lang}.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("section", SECTIONS)
def test_vietnamese_catalog_has_every_english_key(section: str) -> None:
    english, vietnamese = _raw("en")[section], _raw("vi")[section]
    assert set(english) - set(vietnamese) == set()


def test_every_state_has_a_vietnamese_name() -> None:
    from agentroll.model import HostState

    names = {state: catalog("vi").state(state.value) for state in HostState}
    assert names[HostState.COMPLIANT] == "Đạt chuẩn"
    assert names[HostState.MISNAMED] == "Sai tên máy"
    assert all(name != state.value for state, name in names.items())
    assert len(set(names.values())) == len(names), "two states share a name"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("RAM 1024 MB < 2048 MB", "Bộ nhớ RAM 1024 MB, yêu cầu tối thiểu 2048 MB"),
        ("free space on C: 900 MB < 2048 MB", "Ổ đĩa C: chỉ còn trống 900 MB, yêu cầu tối thiểu 2048 MB"),
        (
            "OS Windows 7 (build 7601) not supported",
            "Hệ điều hành Windows 7 (bản dựng 7601) không được hỗ trợ",
        ),
        ("architecture x86 not in x64", "Máy tính kiến trúc x86, phần mềm chỉ hỗ trợ x64"),
        ("PowerShell 2.0 < 5.1", "PowerShell phiên bản 2.0, yêu cầu tối thiểu 5.1"),
        ("connection refused", "Máy từ chối kết nối (máy đang tắt hoặc chưa bật WinRM)"),
        ("credentials rejected", "Tài khoản quản trị bị từ chối (sai tên đăng nhập hoặc mật khẩu)"),
        ("install: installer exit code 1603", "Cài đặt không thành công: bộ cài đặt trả về mã lỗi 1603"),
        (
            "waiting for a license: SNV has 6 licenses, 8 eligible PCs",
            "Chờ cấp bản quyền: đơn vị SNV có 6 bản quyền nhưng 8 máy đủ điều kiện",
        ),
        ("service AgentrollMonitor is stopped", "Dịch vụ AgentrollMonitor đang dừng"),
        (
            'computer name "mayphuong" != standard "TCKH-PHUONGTT"',
            'Tên máy hiện tại "mayphuong", tên theo quy định "TCKH-PHUONGTT"',
        ),
    ],
)
def test_reasons_in_vietnamese_keep_the_values(reason: str, expected: str) -> None:
    assert translate_reason(reason, "vi") == expected


def test_nested_and_joined_reasons_are_translated_part_by_part() -> None:
    assert translate_reason("rename: connection refused", "vi").startswith("Đổi tên máy: Máy từ chối kết nối")
    joined = translate_reason("windows update; computer rename", "vi")
    assert joined == (
        "Cần khởi động lại để hoàn tất cập nhật Windows; Cần khởi động lại để áp dụng tên máy mới"
    )


def test_an_unknown_reason_stays_english() -> None:
    assert translate_reason("the moon is in the wrong phase", "vi") == "the moon is in the wrong phase"


def test_english_reasons_are_untouched() -> None:
    assert translate_reason("RAM 1024 MB < 2048 MB", "en") == "RAM 1024 MB < 2048 MB"


def test_numbers_follow_the_language() -> None:
    assert catalog("en").percent(32.6) == "32.6 %"
    assert catalog("vi").percent(32.6) == "32,6%"


@pytest.mark.parametrize(
    "reason",
    [
        # Exactly as the coverage callback records them from real runs against the simulated fleet.
        "install: installer exit code 1603",
        "Ansible requires PowerShell v5.1",
        "connection refused",
        "credentials rejected",
        "timed out",
        "connection dropped",
        "waiting for a license: MANGDEN has 14 licenses, 15 eligible PCs",
        "OS Windows 7 (build 7601) not supported",
        "architecture x86 not in x64",
    ],
)
def test_reasons_the_toolkit_records_are_all_translated(reason: str) -> None:
    assert translate_reason(reason, "vi") != reason
