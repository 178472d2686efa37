"""Inventory validation (pure) and loading through Ansible's own inventory machinery."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from agentroll.inventory import (
    InventoryError,
    build_inventory,
    host_variables,
    inventory_from_ansible,
    load_inventory,
    plain_data_from_ansible,
)

REPO = Path(__file__).resolve().parents[2]


def unit_vars(code: str = "VP", licenses: Any = 2, **extra: Any) -> dict[str, Any]:
    names = {"agentroll_unit_code": code, "agentroll_unit_name": f"Unit {code}"}
    return {**names, "agentroll_licenses": licenses, **extra}


def district(**groups: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Plain group data with ``units`` holding the given groups as children (unless they say otherwise)."""
    data: dict[str, dict[str, Any]] = {
        "all": {"vars": {}, "children": ["units", "ungrouped"], "hosts": []},
        "ungrouped": {"vars": {}, "children": [], "hosts": []},
        "units": {"vars": {}, "children": [name for name in groups if not name.startswith("_")], "hosts": []},
    }
    for name, group in groups.items():
        data[name.lstrip("_")] = {"vars": {}, "children": [], "hosts": [], **group}
    return data


def tree(unit_groups: dict[str, Any]) -> dict[str, Any]:
    """A hosts.yml document with the given groups under ``units``."""
    return {"all": {"children": {"units": {"children": unit_groups}}}}


def error_lines(groups: dict[str, Any], hosts: dict[str, Any]) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        build_inventory(groups, hosts)
    return str(caught.value).splitlines()


def test_units_hosts_and_fields() -> None:
    groups = district(
        vp={"vars": unit_vars("VP", 3), "hosts": ["vp-01", "vp-02"]},
        tp={"vars": unit_vars("TP", "4"), "hosts": ["tp-01"]},
    )
    hosts = {
        "vp-01": {
            "ansible_host": "10.0.0.1",
            "agentroll_owner": "Phạm Văn Thắng",
            "agentroll_mac": "00-11-22-33-44-55",
        },
        "vp-02": {"ansible_host": "10.0.0.2", "agentroll_standard_name": "VP-KETOAN", "agentroll_owner": ""},
        "tp-01": {},
    }
    inventory = build_inventory(groups, hosts)
    assert [(u.code, u.name, u.licenses, u.group) for u in inventory.units] == [
        ("VP", "Unit VP", 3, "vp"),
        ("TP", "Unit TP", 4, "tp"),
    ]
    vp01, vp02, tp01 = inventory.hosts
    assert (vp01.name, vp01.unit, vp01.address, vp01.owner, vp01.mac) == (
        "vp-01",
        "VP",
        "10.0.0.1",
        "Phạm Văn Thắng",
        "00-11-22-33-44-55",
    )
    assert vp02.standard_name_override == "VP-KETOAN" and vp02.owner is None
    assert tp01.address is None and tp01.unit == "TP"


def test_grouping_groups_are_walked_through_and_not_counted() -> None:
    groups = district(
        departments={"children": ["vp", "tp"]},
        _vp={"vars": unit_vars("VP"), "hosts": ["vp-01"]},
        _tp={"vars": unit_vars("TP"), "hosts": ["tp-01"]},
        communes={"children": ["xa"]},
        _xa={"vars": unit_vars("XA"), "hosts": []},
    )
    inventory = build_inventory(groups, {"vp-01": {}, "tp-01": {}})
    assert [unit.code for unit in inventory.units] == ["VP", "TP", "XA"]
    assert inventory.hosts_of("XA") == ()


def test_sub_groups_of_a_unit_belong_to_it() -> None:
    groups = district(
        vp={"vars": unit_vars("VP"), "hosts": ["vp-01"], "children": ["vp_laptops"]},
        _vp_laptops={"hosts": ["vp-lap"]},
    )
    inventory = build_inventory(groups, {})
    assert [(h.name, h.unit) for h in inventory.hosts] == [("vp-01", "VP"), ("vp-lap", "VP")]


def test_hosts_outside_units_are_ignored() -> None:
    groups = district(vp={"vars": unit_vars("VP"), "hosts": ["vp-01"]})
    groups["servers"] = {"vars": {}, "children": [], "hosts": ["dc01"]}
    groups["all"]["children"].append("servers")
    groups["ungrouped"]["hosts"] = ["laptop"]
    inventory = build_inventory(groups, {"vp-01": {}, "dc01": {"ansible_host": "10.0.0.1"}, "laptop": {}})
    assert [host.name for host in inventory.hosts] == ["vp-01"]


def test_deadline_is_inherited_from_the_nearest_group() -> None:
    groups = district(
        departments={"children": ["vp"], "vars": {"agentroll_deadline": "2026-12-15"}},
        _vp={"vars": unit_vars("VP")},
        tp={"vars": unit_vars("TP", agentroll_deadline=date(2026, 12, 1))},
        xa={"vars": unit_vars("XA")},
    )
    groups["units"]["vars"]["agentroll_deadline"] = "2026-12-31"
    inventory = build_inventory(groups, {})
    assert {u.code: u.deadline for u in inventory.units} == {
        "VP": date(2026, 12, 15),
        "TP": date(2026, 12, 1),
        "XA": date(2026, 12, 31),
    }
    assert inventory.deadline == date(2026, 12, 31)


def test_time_zone_comes_from_units_else_all() -> None:
    groups = district(vp={"vars": unit_vars("VP")})
    assert build_inventory(groups, {}).timezone is None
    groups["all"]["vars"]["agentroll_timezone"] = "UTC"
    assert build_inventory(groups, {}).timezone == "UTC"
    groups["units"]["vars"]["agentroll_timezone"] = " Asia/Ho_Chi_Minh "
    assert build_inventory(groups, {}).timezone == "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (
            "Asia/Hanoi",
            "group 'units': agentroll_timezone: unknown time zone 'Asia/Hanoi'; give an IANA name",
        ),
        ("", "group 'units': agentroll_timezone: '' is not a time zone name such as 'Asia/Ho_Chi_Minh'"),
        (7, "group 'units': agentroll_timezone: 7 is not a time zone name"),
    ],
)
def test_a_bad_time_zone_is_one_line_naming_the_group(zone: Any, expected: str) -> None:
    groups = district(vp={"vars": unit_vars("VP")})
    groups["units"]["vars"]["agentroll_timezone"] = zone
    with pytest.raises(InventoryError) as raised:
        build_inventory(groups, {})
    assert str(raised.value).startswith(expected) and "\n" not in str(raised.value)


def test_deadline_falls_back_to_all_and_may_be_absent() -> None:
    groups = district(vp={"vars": unit_vars("VP")})
    assert build_inventory(groups, {}).deadline is None
    groups["all"]["vars"]["agentroll_deadline"] = "2027-01-31"
    inventory = build_inventory(groups, {})
    assert inventory.deadline == inventory.units[0].deadline == date(2027, 1, 31)


@pytest.mark.parametrize(
    ("vars_", "expected"),
    [
        ({"agentroll_unit_code": "VP"}, "unit group 'vp': agentroll_licenses is missing"),
        (unit_vars(licenses="abc"), "'vp': agentroll_licenses 'abc' is not a non-negative integer"),
        (unit_vars(licenses=-1), "unit group 'vp': agentroll_licenses -1 is not a non-negative integer"),
        (unit_vars(licenses=2.5), "unit group 'vp': agentroll_licenses 2.5 is not a non-negative integer"),
        (unit_vars(licenses=True), "unit group 'vp': agentroll_licenses True is not a non-negative integer"),
        ({"agentroll_licenses": 1}, "unit group 'vp': agentroll_unit_code is missing"),
        (unit_vars(code="vp"), "unit group 'vp': agentroll_unit_code 'vp' does not match [A-Z0-9]{1,8}"),
        (unit_vars(code="TOOLONGCODE"), "agentroll_unit_code 'TOOLONGCODE' does not match"),
        (unit_vars(code="PHÒNG"), "agentroll_unit_code 'PHÒNG' does not match"),
        (unit_vars(code="ß"), "agentroll_unit_code 'ß' does not match"),
        (unit_vars(licenses="²"), "'vp': agentroll_licenses '²' is not a non-negative integer"),
        (unit_vars(agentroll_deadline="31/12/2026"), "'vp': agentroll_deadline '31/12/2026' is not a date"),
    ],
)
def test_each_unit_error_names_the_group(vars_: dict[str, Any], expected: str) -> None:
    lines = error_lines(district(vp={"vars": vars_, "hosts": ["vp-01"]}), {"vp-01": {}})
    assert len(lines) == 1
    assert expected in lines[0]


def test_a_leaf_group_without_unit_variables_is_an_incomplete_unit() -> None:
    lines = error_lines(district(vp={}), {})
    assert lines == [
        "unit group 'vp': agentroll_unit_code is missing",
        "unit group 'vp': agentroll_licenses is missing",
    ]


def test_duplicate_unit_codes_name_both_groups() -> None:
    lines = error_lines(district(vp={"vars": unit_vars("VP")}, vp2={"vars": unit_vars("VP")}), {})
    assert lines == ["unit code 'VP' is used by two unit groups: 'vp' and 'vp2'"]


def test_host_in_two_units_names_both() -> None:
    groups = district(
        vp={"vars": unit_vars("VP"), "hosts": ["pc-1"]}, tp={"vars": unit_vars("TP"), "hosts": ["pc-1"]}
    )
    assert error_lines(groups, {}) == ["host 'pc-1' is in two units: 'vp' and 'tp'"]


def test_same_address_twice_names_both_hosts() -> None:
    groups = district(
        vp={"vars": unit_vars("VP"), "hosts": ["vp-01", "vp-02"]},
        tp={"vars": unit_vars("TP"), "hosts": ["tp-01", "10.0.0.9"]},
    )
    hosts = {
        "vp-01": {"ansible_host": "10.0.0.5"},
        "vp-02": {"ansible_host": "10.0.0.6"},
        "tp-01": {"ansible_host": "10.0.0.5"},
        "10.0.0.9": {},
    }
    hosts["vp-02"] = {"ansible_host": "10.0.0.9"}  # collides with a host named by its address
    assert error_lines(groups, hosts) == [
        "hosts 'vp-01' and 'tp-01' have the same address '10.0.0.5'",
        "hosts 'vp-02' and '10.0.0.9' have the same address '10.0.0.9'",
    ]


def test_nested_units_and_misplaced_hosts_are_errors() -> None:
    groups = district(
        vp={"vars": unit_vars("VP"), "children": ["inner"]},
        _inner={"vars": unit_vars("IN")},
        departments={"children": ["tp"], "hosts": []},
        _tp={"vars": unit_vars("TP")},
    )
    groups["units"]["hosts"] = ["stray"]
    lines = error_lines(groups, {})
    assert "host 'stray' is directly in group 'units', not in a unit group" in lines
    assert any("'inner' sets agentroll_unit_code but is inside unit group 'vp'" in line for line in lines)


def test_missing_units_group_is_an_error() -> None:
    with pytest.raises(InventoryError, match="no group 'units'"):
        build_inventory({"all": {"vars": {}, "children": [], "hosts": []}}, {})


def test_all_errors_are_reported_at_once_one_per_line() -> None:
    groups = district(
        vp={"vars": unit_vars("VP", -3), "hosts": ["vp-01"]},
        tp={"vars": unit_vars("vp", 1), "hosts": ["tp-01"]},
        xa={"vars": unit_vars("XA", 1, agentroll_deadline="soon"), "hosts": ["xa-01", "xa-02"]},
        ya={"vars": unit_vars("XA", 1), "hosts": ["xa-01"]},
    )
    hosts = {"xa-01": {"ansible_host": "10.1.1.1"}, "xa-02": {"ansible_host": "10.1.1.1"}}
    lines = error_lines(groups, hosts)
    assert len(lines) == 6, lines
    assert "unit code 'XA' is used by two unit groups: 'xa' and 'ya'" in lines
    assert any("'vp': agentroll_licenses -3" in line for line in lines)
    assert any("'tp': agentroll_unit_code 'vp'" in line for line in lines)
    assert any("'xa': agentroll_deadline 'soon'" in line for line in lines)
    assert any("host 'xa-01' is in two units: 'xa' and 'ya'" in line for line in lines)
    assert any("hosts 'xa-01' and 'xa-02' have the same address '10.1.1.1'" in line for line in lines)


# --- loading through Ansible -------------------------------------------------------------------


def test_loads_the_example_inventory() -> None:
    inventory = load_inventory(REPO / "inventory" / "example")
    assert [unit.code for unit in inventory.units] == ["VP", "TCKH", "XA1"]
    assert len(inventory.hosts) == 8
    assert "dc01" not in {host.name for host in inventory.hosts}
    assert inventory.deadline == date(2026, 12, 31)  # from group_vars/units/deadline.yml
    assert inventory.unit("TCKH").deadline == date(2026, 12, 15)
    assert inventory.host("vp-04").standard_name_override == "VP-KETOAN"


def test_group_vars_and_host_vars_directories_are_honoured(make_inventory_dir: Callable[..., Path]) -> None:
    path = make_inventory_dir(
        tree({"tp": {"hosts": {"tp-01": None}}}),
        group_vars={"tp": unit_vars("TP", 5), "units": {"agentroll_deadline": "2026-12-31"}},
        host_vars={"tp-01": {"ansible_host": "10.0.0.3", "agentroll_owner": "Đặng Đức"}},
    )
    inventory = load_inventory(path)
    assert inventory.units[0].licenses == 5 and inventory.units[0].deadline == date(2026, 12, 31)
    assert inventory.hosts[0].owner == "Đặng Đức" and inventory.hosts[0].address == "10.0.0.3"


def test_ini_inventory_loads(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text(
        "[vp]\nvp-01 ansible_host=10.0.0.1\n\n[vp:vars]\nagentroll_unit_code=VP\nagentroll_licenses=3\n\n"
        "[units:children]\nvp\n",
        encoding="utf-8",
    )
    inventory = load_inventory(path)
    assert inventory.units[0].licenses == 3 and inventory.hosts[0].address == "10.0.0.1"


def test_load_errors_are_prefixed_with_the_inventory(make_inventory_dir: Callable[..., Path]) -> None:
    path = make_inventory_dir(tree({"vp": {"vars": {"agentroll_licenses": 1}}}))
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert str(caught.value) == f"{path}: unit group 'vp': agentroll_unit_code is missing"


def test_missing_inventory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"^inventory '.*nowhere' does not exist$"):
        load_inventory(tmp_path / "nowhere")


def test_unparsable_inventory_is_one_line_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text("all: [\n", encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert "cannot be parsed" in message and "hosts.yml" in message


def _vault(tmp_path: Path) -> tuple[Any, Path]:
    from ansible.parsing.vault import VaultLib, VaultSecret

    password_file = tmp_path / "vault-pass"
    password_file.write_text("correct horse\n", encoding="utf-8")
    return VaultLib([("default", VaultSecret(b"correct horse"))]), password_file


def test_inline_vault_strings_need_no_password(
    make_inventory_dir: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    vault, _ = _vault(tmp_path)
    path = make_inventory_dir(tree({"vp": {"hosts": {"vp-01": None}}}), group_vars={"vp": unit_vars("VP")})
    ciphertext = vault.encrypt("hunter2").decode()
    indented = "\n".join("  " + line for line in ciphertext.splitlines())
    secret = f"ansible_password: !vault |\n{indented}\n"
    (path / "group_vars" / "all.yml").write_text(secret, encoding="utf-8")
    assert load_inventory(path).units[0].code == "VP"


def test_whole_file_vault_names_the_file_or_uses_the_password_file(
    make_inventory_dir: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault, password_file = _vault(tmp_path)
    path = make_inventory_dir(tree({"vp": {"hosts": {"vp-01": None}}}))
    secret_vars = path / "group_vars" / "vp.yml"
    secret_vars.parent.mkdir()
    secret_vars.write_bytes(vault.encrypt("agentroll_unit_code: VP\nagentroll_licenses: 2\n"))
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert "\n" not in str(caught.value)
    assert str(secret_vars) in str(caught.value) and "ANSIBLE_VAULT_PASSWORD_FILE" in str(caught.value)
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(password_file))
    assert load_inventory(path).units[0].licenses == 2
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(tmp_path / "missing-pass"))
    with pytest.raises(InventoryError, match="missing-pass"):
        load_inventory(path)


def test_a_district_of_190_hosts_loads_every_host(
    tmp_path: Path, yaml_writer: Callable[[Path, Any], Path]
) -> None:
    units: dict[str, Any] = {}
    for unit_index in range(19):
        code = f"U{unit_index:02d}"
        units[f"unit_{code.lower()}"] = {
            "vars": unit_vars(code, 10),
            "hosts": {
                f"{code.lower()}-{n:02d}": {
                    "ansible_host": f"10.20.{unit_index}.{n + 1}",
                    "agentroll_owner": "Nguyễn Văn An",
                }
                for n in range(10)
            },
        }
    yaml_writer(tmp_path / "hosts.yml", {"all": {"children": {"units": {"children": units}}}})
    yaml_writer(tmp_path / "group_vars" / "all.yml", {"ansible_connection": "winrm"})
    inventory = load_inventory(tmp_path)
    assert len(inventory.units) == 19 and len(inventory.hosts) == 190
    assert inventory.host("u18-09").address == "10.20.18.10" and inventory.unit("U18").licenses == 10


def test_plain_data_from_a_parsed_ansible_inventory_keeps_only_toolkit_variables() -> None:
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[str(REPO / "inventory" / "example")])
    groups, hosts = plain_data_from_ansible(manager, loader, [str(REPO / "inventory" / "example")])
    assert groups["unit_vp"]["vars"]["agentroll_licenses"] == 4
    assert groups["units"]["vars"] == {
        "agentroll_deadline": date(2026, 12, 31),
        "agentroll_deadline_warning_days": 7,
    }
    assert "ansible_user" not in groups["all"]["vars"] and "ansible_connection" not in groups["all"]["vars"]
    assert hosts["vp-01"]["ansible_host"] == "127.30.0.11"
    assert build_inventory(groups, hosts) == load_inventory(REPO / "inventory" / "example")


def test_an_inventory_ansible_already_parsed_is_the_one_load_inventory_reads() -> None:
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    source = str(REPO / "inventory" / "example")
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[source])
    assert inventory_from_ansible(manager, loader, [source]) == load_inventory(source)


def test_an_invalid_inventory_ansible_parsed_is_named_in_each_error_line(
    make_inventory_dir: Callable[..., Path],
) -> None:
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    same_address = {"ansible_host": "10.0.0.1"}
    path = make_inventory_dir(
        tree({"vp": {"vars": unit_vars("VP"), "hosts": {"vp-01": same_address, "vp-02": same_address}}})
    )
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[str(path)])
    with pytest.raises(InventoryError) as caught:
        inventory_from_ansible(manager, loader, [str(path)])
    lines = str(caught.value).splitlines()
    assert lines and all(line.startswith(f"{path}: ") for line in lines)
    assert any("10.0.0.1" in line and "vp-02" in line for line in lines)


def test_roster_fleet_file_and_docs_beside_the_inventory_are_not_parsed(
    make_inventory_dir: Callable[..., Path], yaml_writer: Callable[[Path, Any], Path]
) -> None:
    path = make_inventory_dir(tree({"vp": {"vars": unit_vars("VP"), "hosts": {"vp-01": None}}}))
    (path / "roster").mkdir()
    (path / "roster" / "pcs.csv").write_text("unit,address\nVP,10.0.0.1\n", encoding="utf-8")
    yaml_writer(path / "fleet.yml", {"credentials": {"username": "u", "password": "p"}, "hosts": []})
    (path / "README.md").write_text("# notes\n", encoding="utf-8")
    inventory = load_inventory(path)
    assert [host.name for host in inventory.hosts] == ["vp-01"]


def test_one_broken_file_among_several_is_an_error(make_inventory_dir: Callable[..., Path]) -> None:
    path = make_inventory_dir(tree({"vp": {"vars": unit_vars("VP"), "hosts": {"vp-01": None}}}))
    (path / "more.yml").write_text("all: [\n", encoding="utf-8")
    with pytest.raises(InventoryError, match=r"cannot be parsed: .*more\.yml"):
        load_inventory(path)


def test_name_template_comes_from_units_before_all() -> None:
    groups = district(vp={"vars": unit_vars("VP")})
    groups["all"]["vars"]["agentroll_name_template"] = "{{ unit_code }}{{ short }}"
    assert build_inventory(groups, {}).name_template == "{{ unit_code }}{{ short }}"
    groups["units"]["vars"]["agentroll_name_template"] = "KP-{{ unit_code }}-{{ short }}"
    assert build_inventory(groups, {}).name_template == "KP-{{ unit_code }}-{{ short }}"
    groups["units"]["vars"]["agentroll_name_template"] = 42
    assert error_lines(groups, {}) == ["group 'units': agentroll_name_template 42 is not a template string"]


def test_group_vars_name_template_drives_the_names(make_inventory_dir: Callable[..., Path]) -> None:
    from agentroll.naming import standard_names

    directory = make_inventory_dir(
        tree({"vp": {"vars": unit_vars("VP"), "hosts": {"vp-01": {"agentroll_owner": "Phạm Văn Thắng"}}}}),
        group_vars={"units": {"agentroll_name_template": "KP{{ unit_code }}-{{ short }}"}},
    )
    inventory = load_inventory(directory)
    assert standard_names(inventory) == {"vp-01": "KPVP-THANGPV"}
    assert standard_names(inventory, "{{ short }}") == {"vp-01": "THANGPV"}


def test_a_control_character_in_a_host_variable_names_the_host_and_variable() -> None:
    lines = error_lines(
        district(vp={"vars": unit_vars("VP"), "hosts": ["vp-01"]}), {"vp-01": {"agentroll_owner": "An\x00"}}
    )
    assert lines == ["host 'vp-01': agentroll_owner holds the control character U+0000"]


def test_host_variables_merge_groups_and_hosts_by_ansibles_precedence(
    make_inventory_dir: Callable[..., Path],
) -> None:
    path = make_inventory_dir(
        tree({"vp": {"hosts": {"vp-01": None, "vp-02": {"ansible_port": 5986}}}}),
        group_vars={
            "all": {"ansible_port": 5985, "ansible_user": "agentroll"},
            "vp": {**unit_vars("VP"), "ansible_user": "vp-admin"},
        },
    )
    found = host_variables(path, ["ansible_port", "ansible_user", "ansible_winrm_scheme"])
    assert found == {
        "vp-01": {"ansible_port": 5985, "ansible_user": "vp-admin"},
        "vp-02": {"ansible_port": 5986, "ansible_user": "vp-admin"},
    }


def test_host_variables_of_a_missing_inventory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"^inventory '.*nowhere' does not exist$"):
        host_variables(tmp_path / "nowhere", ["ansible_host"])


def test_the_inventory_package_does_not_load_ansible_until_asked() -> None:
    # The domain core imports agentroll.inventory; only load_inventory and host_variables need Ansible.
    probe = "import sys, agentroll.inventory; print([m for m in sys.modules if m.startswith('ansible')])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
