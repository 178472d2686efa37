"""The district's report settings in the inventory: the deadline warning and the written reply's letter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentroll.inventory import InventoryError, load_inventory
from agentroll.inventory.validate import build_inventory
from agentroll.model import DEFAULT_DEADLINE_WARNING_DAYS, Letter


def district(
    units_vars: dict[str, Any] | None = None, all_vars: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Plain group data: one unit VP below ``units``."""
    unit = {"agentroll_unit_code": "VP", "agentroll_unit_name": "Văn phòng", "agentroll_licenses": 2}
    return {
        "all": {"vars": all_vars or {}, "children": ["units"], "hosts": []},
        "units": {"vars": units_vars or {}, "children": ["vp"], "hosts": []},
        "vp": {"vars": unit, "children": [], "hosts": []},
    }


def one_error(groups: dict[str, Any]) -> str:
    with pytest.raises(InventoryError) as raised:
        build_inventory(groups, {})
    assert "\n" not in str(raised.value)
    return str(raised.value)


def test_the_warning_defaults_to_seven_days_and_comes_from_units_else_all() -> None:
    assert build_inventory(district(), {}).deadline_warning_days == DEFAULT_DEADLINE_WARNING_DAYS == 7
    assert (
        build_inventory(district(all_vars={"agentroll_deadline_warning_days": 10}), {}).deadline_warning_days
        == 10
    )
    both = district({"agentroll_deadline_warning_days": "3"}, {"agentroll_deadline_warning_days": 10})
    assert build_inventory(both, {}).deadline_warning_days == 3  # an INI inventory gives text


@pytest.mark.parametrize("value", [-1, "soon", 2.5, True, "²"])
def test_a_bad_warning_is_one_line_naming_the_group(value: Any) -> None:
    message = one_error(district({"agentroll_deadline_warning_days": value}))
    assert message == (
        f"group 'units': agentroll_deadline_warning_days {value!r} is not a whole number of days (>= 0)"
    )


def test_the_letter_settings() -> None:
    settings = {
        "agentroll_district": "Kon Plông",
        "agentroll_reply_issuer": "Phòng Văn hóa và Thông tin",
        "agentroll_reply_reference": "Công văn số 245/UBND-VP ngày 05/11/2026 của UBND huyện Kon Plông",
        "agentroll_reply_signer_title": "KT. TRƯỞNG PHÒNG\nPHÓ TRƯỞNG PHÒNG",
        "agentroll_reply_signer_name": " Nguyễn Văn Hùng ",
    }
    letter = build_inventory(district(all_vars=settings), {}).letter
    assert letter == Letter(
        district="Kon Plông",
        issuer="Phòng Văn hóa và Thông tin",
        reference="Công văn số 245/UBND-VP ngày 05/11/2026 của UBND huyện Kon Plông",
        signer_title="KT. TRƯỞNG PHÒNG\nPHÓ TRƯỞNG PHÒNG",
        signer_name="Nguyễn Văn Hùng",
    )
    assert build_inventory(district(), {}).letter == Letter()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("agentroll_reply_reference", ["245/UBND-VP"], "is not text"),
        ("agentroll_reply_signer_name", "Nguyễn\x00Văn", "holds the control character U+0000"),
        ("agentroll_reply_reference", "line one\nline two", "holds the control character U+000A"),
    ],
)
def test_a_bad_letter_setting_is_one_line(key: str, value: Any, expected: str) -> None:
    message = one_error(district({key: value}))
    assert message.startswith(f"group 'units': {key} ") and message.endswith(expected)


def test_the_settings_are_read_through_ansible_from_group_vars(
    make_inventory_dir: Callable[..., Path],
) -> None:
    hosts = {"all": {"children": {"units": {"children": {"vp": {"hosts": {"vp-01": {}}}}}}}}
    path = make_inventory_dir(
        hosts,
        group_vars={
            "vp": {"agentroll_unit_code": "VP", "agentroll_licenses": 1},
            "units": {
                "agentroll_deadline_warning_days": 14,
                "agentroll_reply_signer_title": "CHÁNH VĂN PHÒNG",
            },
            "all": {"agentroll_district": "Kon Plông"},
        },
    )
    inventory = load_inventory(path)
    assert inventory.deadline_warning_days == 14
    assert (inventory.letter.district, inventory.letter.signer_title) == ("Kon Plông", "CHÁNH VĂN PHÒNG")
