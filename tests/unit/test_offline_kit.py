"""The offline kit: what ``agentroll bundle`` writes, and receipts (from the kit played on simulated PCs)
imported into the store, counted truthfully, each once, all or nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentroll import demo_data
from agentroll.bundle import KIT_FILES, BundleError, write_kit
from agentroll.cli import main
from agentroll.eligibility import family_first_builds
from agentroll.inventory import load_inventory
from agentroll.model import Aspect
from agentroll.naming import standard_names
from agentroll.receipts import ReceiptError, import_receipts, read_receipt
from agentroll.report import report_from_store
from agentroll.sim.clock import FakeClock
from agentroll.sim.fleet import Fleet
from agentroll.sim.kit import run_kit
from agentroll.store import open_store

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "inventory" / "demo"
PROFILE = yaml.safe_load((REPO / "roles" / "agent" / "defaults" / "main.yml").read_text(encoding="utf-8"))
INSTALLER = REPO / "roles" / "agent" / "files" / PROFILE["agentroll_agent_installer"]
INSTALLER_SHA256 = hashlib.sha256(INSTALLER.read_bytes()).hexdigest()
WRITTEN = datetime(2026, 12, 3, 2, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_inventory() -> Any:
    return load_inventory(DEMO)


@pytest.fixture
def fleet() -> Fleet:
    return Fleet.from_file(DEMO / "fleet.yml", clock=FakeClock())


@pytest.fixture(scope="module")
def written_kits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The kits of two units of the demo district, written once."""
    root = tmp_path_factory.mktemp("kits")
    return {
        unit: write_kit(DEMO, unit, root / unit, simulated=True, now=WRITTEN).directory
        for unit in ("DAKTANG", "VP")
    }


@pytest.fixture
def kit_of(tmp_path: Path, written_kits: dict[str, Path]) -> Callable[[str], Path]:
    """``kit_of(unit)``: a fresh copy of the unit's kit (its receipts folder empty)."""

    def make(unit: str) -> Path:
        return Path(shutil.copytree(written_kits[unit], tmp_path / f"kit-{unit}"))

    return make


def address_of(inventory: Any, host: str) -> str:
    return inventory.host(host).address


# --- the kit -------------------------------------------------------------------------------------------


def test_the_kit_holds_the_installer_its_checksum_the_scripts_and_the_units_table(
    kit_of: Callable[[str], Path], demo_inventory: Any
) -> None:
    kit_dir = kit_of(demo_data.OFFLINE_UNIT)
    assert sorted(path.name for path in kit_dir.iterdir()) == [
        "Install-Agent.cmd",
        "Install-Agent.ps1",
        "README.txt",
        "installer",
        "kit.json",
        "receipts",
    ]
    digest = hashlib.sha256(INSTALLER.read_bytes()).hexdigest()
    assert digest == PROFILE["agentroll_agent_installer_sha256"]
    assert (kit_dir / "installer" / INSTALLER.name).read_bytes() == INSTALLER.read_bytes()
    assert (kit_dir / "installer" / f"{INSTALLER.name}.sha256").read_text() == f"{digest}  {INSTALLER.name}\n"
    for script in ("Install-Agent.cmd", "Install-Agent.ps1"):
        assert (kit_dir / script).read_bytes() == (KIT_FILES / script).read_bytes()
    assert "Install-Agent.ps1" in (kit_dir / "Install-Agent.cmd").read_text()
    assert (kit_dir / "README.txt").read_bytes().startswith(b"\xef\xbb\xbf")

    kit = json.loads((kit_dir / "kit.json").read_text(encoding="utf-8"))
    names = standard_names(demo_inventory)
    hosts = demo_inventory.hosts_of(demo_data.OFFLINE_UNIT)
    assert kit["format"] == "agentroll.kit/1" and kit["created_at"] == "2026-12-03T02:15:00Z"
    assert kit["unit"] == {"code": "DAKTANG", "name": "UBND xã Đắk Tăng"}
    assert kit["pcs"] == [
        {"mac": host.mac, "host": host.name, "standard_name": names[host.name], "owner": host.owner}
        for host in hosts
    ]
    assert kit["agent"] == {
        "display_name": PROFILE["agentroll_agent_display_name"],
        "product_id": PROFILE["agentroll_agent_product_id"],
        "service_name": PROFILE["agentroll_agent_service_name"],
        "installer": f"installer/{INSTALLER.name}",
        "sha256": digest,
        "install_arguments": "",
        "expected_return_codes": PROFILE["agentroll_agent_expected_return_codes"],
    }
    # The same requirements as the agent profile, and the OS families as eligibility decides them.
    assert kit["requirements"] == PROFILE["agentroll_agent_requirements"]
    assert kit["os_families"] == family_first_builds()


def district(tmp_path: Path, extra: dict[str, Any] | None = None, **host: Any) -> Path:
    """A one-unit inventory (two PCs, the first with ``host`` variables) and an agent profile."""
    pcs = {
        "tp-01": {
            "ansible_host": "127.9.0.1",
            "agentroll_mac": "52:54:00:00:00:01",
            "agentroll_owner": "Lê Văn An",
            **host,
        },
        "tp-02": {"ansible_host": "127.9.0.2"},
    }
    document = {
        "all": {
            "children": {
                "units": {
                    "children": {
                        "tp": {
                            "vars": {
                                "agentroll_unit_code": "TP",
                                "agentroll_unit_name": "Phòng Tư pháp",
                                "agentroll_licenses": 2,
                            },
                            "hosts": pcs,
                        }
                    }
                }
            }
        }
    }
    directory = tmp_path / "inventory"
    directory.mkdir(exist_ok=True)
    (directory / "hosts.yml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    if extra:
        (directory / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
        (directory / "group_vars" / "all" / "agent.yml").write_text(yaml.safe_dump(extra), encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    ("extra", "host", "unit", "message"),
    [
        ({}, {}, "XYZ", "no unit 'XYZ' in the inventory (units: TP)"),
        (
            {"agentroll_agent_installer_sha256": "0" * 64},
            {},
            "TP",
            f"has SHA-256 {INSTALLER_SHA256}, the agent profile expects {'0' * 64}",
        ),
        (
            {"agentroll_agent_installer": "https://example.org/agent.msi"},
            {},
            "TP",
            "the installer is a URL (https://example.org/agent.msi): download it and give --installer FILE",
        ),
        (
            {"agentroll_agent_installer": "missing.msi"},
            {},
            "TP",
            "the installer missing.msi is neither a file nor in",
        ),
        (
            {"agentroll_agent_install_arguments": "REGKEY=s3cret"},
            {},
            "TP",
            "give --include-install-arguments",
        ),
        ({}, {"agentroll_mac": None}, "TP", "no PC of unit TP has a MAC address (agentroll_mac)"),
        (
            {},
            {"agentroll_mac": "52:54:00"},
            "TP",
            "host 'tp-01': agentroll_mac: '52:54:00' is not a MAC address",
        ),
        ({"agentroll_agent_requirements": {"os": {}}}, {}, "TP", "agentroll_agent_requirements:"),
    ],
)
def test_a_kit_that_cannot_be_made_right_is_one_line_and_writes_nothing(
    tmp_path: Path, extra: dict[str, Any], host: dict[str, Any], unit: str, message: str
) -> None:
    inventory = district(tmp_path, extra, **host)
    output = tmp_path / "kit"
    with pytest.raises((BundleError, ValueError)) as caught:
        write_kit(inventory, unit, output, simulated=True)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert not output.exists()


def test_a_kit_goes_into_a_new_or_empty_folder_only(tmp_path: Path) -> None:
    inventory = district(tmp_path)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match="is not an empty folder"):
        write_kit(inventory, "TP", tmp_path / "used", simulated=True)
    assert (tmp_path / "used" / "notes.txt").read_text() == "mine"
    kit = write_kit(inventory, "tp", tmp_path / "empty", simulated=True)
    assert (kit.pcs, kit.without_mac) == (1, ("tp-02",))


def test_install_arguments_go_into_the_kit_only_when_asked(tmp_path: Path) -> None:
    inventory = district(tmp_path, {"agentroll_agent_install_arguments": "REGKEY=s3cret"})
    kit = write_kit(inventory, "TP", tmp_path / "kit", include_install_arguments=True, simulated=True)
    assert (
        json.loads((kit.directory / "kit.json").read_text())["agent"]["install_arguments"] == "REGKEY=s3cret"
    )


def test_the_command_line_writes_a_kit_and_warns_of_pcs_without_mac(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = district(tmp_path)
    command = ["bundle", "-i", str(inventory), "--unit", "TP", "-o", str(tmp_path / "kit"), "--simulated"]
    assert main(command) == 0
    err = capsys.readouterr().err
    assert f"wrote the offline kit of TP to {tmp_path / 'kit'}: 1 PC(s)" in err
    assert "1 PC(s) of TP have no MAC address (agentroll_mac), the kit cannot recognise them: tp-02" in err
    assert main(command) == 2
    assert "is not an empty folder" in capsys.readouterr().err


def test_the_sample_agent_goes_only_into_a_kit_for_the_simulated_fleet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = district(tmp_path)
    output = tmp_path / "kit"
    assert main(["bundle", "-i", str(inventory), "--unit", "TP", "-o", str(output)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"agentroll: error: {INSTALLER} is the toolkit's sample simulated agent, not the district's: "
        "fill in the agent profile (group_vars/all/agent.yml), "
        "or give --simulated for a kit of the simulated fleet\n"
    )
    assert not output.exists()
    # Renamed, it is still the sample: it is known by its SHA-256.
    renamed = tmp_path / "vendor-agent.msi"
    shutil.copyfile(INSTALLER, renamed)
    with pytest.raises(BundleError, match="is the toolkit's sample simulated agent"):
        write_kit(inventory, "TP", output, installer=renamed)
    assert not output.exists()


def test_a_profile_still_holding_placeholders_makes_no_kit(tmp_path: Path) -> None:
    placeholders = {"agentroll_agent_installer_sha256": "CHANGE-ME", "agentroll_agent_server": "CHANGE-ME"}
    inventory = district(tmp_path, placeholders)
    output = tmp_path / "kit"
    with pytest.raises(BundleError) as caught:
        write_kit(inventory, "TP", output, simulated=True)
    assert str(caught.value) == (
        "agent profile: fill in agentroll_agent_installer_sha256, agentroll_agent_server in the "
        "inventory's group_vars/all/agent.yml (they still say CHANGE-ME)"
    )
    assert not output.exists()


# --- receipts ------------------------------------------------------------------------------------------


def test_receipts_of_the_kit_count_as_installed_and_are_imported_once(
    tmp_path: Path, kit_of: Callable[[str], Path], demo_inventory: Any, fleet: Fleet
) -> None:
    kit_dir = kit_of(demo_data.OFFLINE_UNIT)
    beyond = ["daktang-02", "daktang-05", "daktang-07"]
    for offset, name in enumerate(beyond):
        assert run_kit(
            kit_dir, fleet.host(address_of(demo_inventory, name)), now=WRITTEN + timedelta(minutes=offset)
        )
    receipt = json.loads(
        (kit_dir / "receipts" / "daktang-02-20261203T021500Z.json").read_text(encoding="utf-8-sig")
    )
    assert receipt["install"] == {"result": "installed", "exit_code": 0}
    assert receipt["rename"]["result"] == "renamed"
    assert receipt["probe"]["pending_computer_name"] == standard_names(demo_inventory)["daktang-02"]

    state = str(tmp_path / "state.sqlite")
    outcome = import_receipts(kit_dir, DEMO, state, now=WRITTEN + timedelta(hours=1))
    assert outcome.hosts == tuple(beyond) and outcome.already_imported == 0
    with open_store(state, readonly=True) as store:
        runs = store.runs()
        report = report_from_store(demo_inventory, store, now=WRITTEN + timedelta(hours=2))
        observed = store.views(beyond)["daktang-05"].latest[Aspect.AGENT].observed_at
    assert [(run.id, run.playbook, run.status) for run in runs] == [(outcome.run_id, "offline-kit", "ok")]
    assert observed == WRITTEN + timedelta(minutes=1)
    hosts = {entry["host"]: entry for entry in report["hosts"]}
    # Installed (coverage counts them), the standard name waiting for the restart the script offered.
    assert report["totals"]["installed"] == 3
    assert {hosts[name]["state"] for name in beyond} == {"reboot_pending"}

    again = import_receipts(kit_dir, DEMO, state)
    assert (again.run_id, again.hosts, again.already_imported) == (None, (), 3)
    with open_store(state, readonly=True) as store:
        assert len(store.runs()) == 1


def test_the_kit_changes_nothing_it_should_not_and_says_why(
    tmp_path: Path, kit_of: Callable[[str], Path], demo_inventory: Any, fleet: Fleet
) -> None:
    kit_dir = kit_of("VP")
    hosts = {host.name: fleet.host(host.address) for host in demo_inventory.hosts_of("VP")}
    failing = hosts["vp-02"]  # installer_exit_code 1603
    low_ram = next(h for h in hosts.values() if h.ram_mb < 2048 and not h.products)
    stranger = fleet.host(address_of(demo_inventory, "nv-01"))  # not in VP's table
    assert run_kit(kit_dir, stranger) is None
    failed = json.loads(run_kit(kit_dir, failing, now=WRITTEN).read_text(encoding="utf-8-sig"))
    assert (
        failed["install"] == {"result": "failed", "exit_code": 1603}
        and failed["rename"]["result"] == "skipped"
    )
    refused = json.loads(run_kit(kit_dir, low_ram, now=WRITTEN).read_text(encoding="utf-8-sig"))
    assert refused["eligible"] is False and refused["install"]["result"] == "not_eligible"
    assert any(text.startswith("RAM ") for text in refused["shortfalls"]) and not low_ram.products

    state = str(tmp_path / "state.sqlite")
    import_receipts(kit_dir, DEMO, state)
    with open_store(state, readonly=True) as store:
        report = report_from_store(demo_inventory, store)
    entries = {entry["host"]: entry for entry in report["hosts"]}
    low_name = next(name for name, host in hosts.items() if host is low_ram)
    assert entries["vp-02"]["state"] == "failed" and entries["vp-02"]["reasons"] == [
        "install: installer exit code 1603"
    ]
    assert entries[low_name]["state"] == "ineligible"


def test_a_tampered_installer_is_not_run(
    kit_of: Callable[[str], Path], demo_inventory: Any, fleet: Fleet
) -> None:
    kit_dir = kit_of(demo_data.OFFLINE_UNIT)
    (kit_dir / "installer" / INSTALLER.name).write_bytes(
        INSTALLER.read_bytes().replace(b'"exit_code": 0', b'"exit_code": 1')
    )
    host = fleet.host(address_of(demo_inventory, "daktang-02"))
    receipt = json.loads(run_kit(kit_dir, host, now=WRITTEN).read_text(encoding="utf-8-sig"))
    assert receipt["install"] == {"result": "checksum_mismatch", "exit_code": None}
    assert not host.products


def receipt_folder(tmp_path: Path, kit_of: Callable[[str], Path], demo_inventory: Any, fleet: Fleet) -> Path:
    kit_dir = kit_of(demo_data.OFFLINE_UNIT)
    run_kit(kit_dir, fleet.host(address_of(demo_inventory, "daktang-02")), now=WRITTEN)
    run_kit(kit_dir, fleet.host(address_of(demo_inventory, "daktang-05")), now=WRITTEN)
    return kit_dir / "receipts"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r.update(mac="02-00-00-00-00-99", host="pc-lost"),
            "PC 'pc-lost' with MAC 02-00-00-00-00-99 is not in the inventory",
        ),
        (
            lambda r: r.update(host="daktang-03"),
            "is PC 'daktang-05' in the inventory, the receipt says 'daktang-03'",
        ),
        (lambda r: r.update(format="agentroll.receipt/9"), "not an agentroll.receipt/1 receipt"),
        (lambda r: r.pop("receipt_id"), "missing 'receipt_id'"),
        (lambda r: r["install"].update(result="maybe"), "install.result 'maybe' is not one of"),
        (lambda r: r["probe"].pop("agent"), "probe: missing 'agent'"),
        (lambda r: r.update(written_at="yesterday"), "Invalid isoformat string"),
    ],
)
def test_a_bad_receipt_is_named_with_what_is_wrong(
    tmp_path: Path,
    kit_of: Callable[[str], Path],
    demo_inventory: Any,
    fleet: Fleet,
    change: Callable[[dict[str, Any]], Any],
    message: str,
) -> None:
    folder = receipt_folder(tmp_path, kit_of, demo_inventory, fleet)
    bad = sorted(folder.glob("daktang-05-*.json"))[0]
    receipt = json.loads(bad.read_text(encoding="utf-8-sig"))
    change(receipt)
    bad.write_text(json.dumps(receipt), encoding="utf-8")
    by_mac = {host.mac: host.name for host in demo_inventory.hosts}
    with pytest.raises(ReceiptError) as caught:
        read_receipt(bad, by_mac)
    assert str(caught.value).startswith(f"{bad}: ") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_receipt_for_a_pc_not_in_the_inventory_stops_the_import_and_nothing_is_recorded(
    tmp_path: Path, kit_of: Callable[[str], Path], demo_inventory: Any, fleet: Fleet
) -> None:
    folder = receipt_folder(tmp_path, kit_of, demo_inventory, fleet)
    bad = sorted(folder.glob("daktang-05-*.json"))[0]
    receipt = json.loads(bad.read_text(encoding="utf-8-sig"))
    receipt.update(mac="02-00-00-00-00-99", host="pc-lost")
    bad.write_text(json.dumps(receipt), encoding="utf-8")
    state = tmp_path / "state.sqlite"
    with pytest.raises(ReceiptError, match="PC 'pc-lost' with MAC 02-00-00-00-00-99 is not in the inventory"):
        import_receipts(folder, DEMO, str(state))
    assert not state.exists()


def test_the_same_receipt_twice_in_one_folder_is_refused(
    tmp_path: Path, kit_of: Callable[[str], Path], demo_inventory: Any, fleet: Fleet
) -> None:
    folder = receipt_folder(tmp_path, kit_of, demo_inventory, fleet)
    original = sorted(folder.glob("daktang-02-*.json"))[0]
    shutil.copyfile(original, folder / "copy.json")
    with pytest.raises(ReceiptError, match="is also"):
        import_receipts(folder, DEMO, str(tmp_path / "state.sqlite"))


def test_the_command_line_imports_and_says_what_it_did(
    tmp_path: Path,
    kit_of: Callable[[str], Path],
    demo_inventory: Any,
    fleet: Fleet,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = receipt_folder(tmp_path, kit_of, demo_inventory, fleet)
    state = str(tmp_path / "state.sqlite")
    arguments = ["receipts", "import", str(folder.parent), "-i", str(DEMO), "--state", state]
    assert main(arguments) == 0
    assert "imported the receipts of 2 PC(s) as run 1" in capsys.readouterr().err
    assert main(arguments) == 0
    assert "every receipt was imported before (2); nothing recorded" in capsys.readouterr().err
    assert main(["receipts", "import", str(tmp_path / "nowhere"), "-i", str(DEMO), "--state", state]) == 2
    assert "nowhere is not a folder" in capsys.readouterr().err
