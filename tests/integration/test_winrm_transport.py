"""Insecure WinRM settings are refused before any PC is contacted; a certificate that fails
validation is an unreachable cause with advice, not urllib3's text. Real ansible-playbook against
the simulated fleet's TLS listener (a self-signed certificate, made at start)."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentroll.sim.testing import running_fleet
from tests.integration.support import District, Pc, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

UNITS = {"xa": {"code": "XA", "name": "UBND xã Đăk Long", "licenses": 3}}
#: What a district inventory says: no opt-in to an insecure transport.
DISTRICT = {"agentroll_allow_insecure_transport": False}
INSECURE = [
    Pc("xa-01", "xa", {"computer_name": "XA-PC01"}),  # HTTPS, certificate ignored (the fleet's default)
    Pc(
        "xa-02",
        "xa",
        {"computer_name": "XA-PC02"},
        {"ansible_winrm_scheme": "http", "ansible_port": 5985, "ansible_winrm_transport": "basic"},
    ),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("transport")
    results: dict[str, Any] = {}
    fleet = [*INSECURE, Pc("xa-03", "xa", {"computer_name": "XA-PC03"})]
    with running_fleet(fleet_spec(fleet), transport="basic", tls=True) as handle:
        inventory = write_inventory(handle, workdir / "insecure", INSECURE, UNITS, DISTRICT)
        district = District(handle, inventory, workdir / "insecure-run")
        marks = district.journal_marks()
        results["insecure"] = district.play("preflight.yml")
        results["insecure_journal"] = {
            address: handle.journal(address)[marks[address] :] for address in handle.addresses
        }

        # The certificate validated: untrusted, trusted but for another name, trusted.
        first = handle.address_of("127.20.0.1")
        ca = workdir / "fleet-ca.pem"
        ca.write_text(ssl.get_server_certificate((first, handle.server.port)), encoding="utf-8")
        # The same PC by a name its certificate does not carry: its address as one integer.
        other_name = str(int(ipaddress.ip_address(handle.address_of("127.20.0.2"))))
        validated = [
            Pc("xa-01", "xa", {"computer_name": "XA-PC01"}),
            Pc("xa-02", "xa", {"computer_name": "XA-PC02"}, {"ansible_winrm_ca_trust_path": str(ca)}),
            Pc("xa-03", "xa", {"computer_name": "XA-PC03"}, {"ansible_winrm_ca_trust_path": str(ca)}),
        ]
        trusted = write_inventory(
            handle,
            workdir / "validated",
            validated,
            UNITS,
            {
                **DISTRICT,
                "ansible_winrm_server_cert_validation": "validate",
                "ansible_winrm_transport": "ntlm",
            },
        )
        _rename_host_address(trusted, "xa-02", other_name)
        results["validated"] = District(handle, trusted, workdir / "validated-run").play("preflight.yml")
    yield results


def _rename_host_address(inventory: Path, host: str, address: str) -> None:
    data = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    data["all"]["children"]["units"]["children"]["xa"]["hosts"][host]["ansible_host"] = address
    inventory.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_insecure_settings_stop_the_run_before_any_pc_is_contacted(runs: dict[str, Any]) -> None:
    run = runs["insecure"]
    assert run.returncode != 0
    assert (
        "insecure WinRM transport on 1 PC(s) (xa-02): Basic authentication over plain HTTP sends the WinRM "
        "password readable on the network: use HTTPS (ansible_winrm_scheme: https, ansible_port: 5986) or "
        "NTLM (ansible_winrm_transport: ntlm)"
    ) in run.output
    assert (
        "insecure WinRM transport on 1 PC(s) (xa-01): ansible_winrm_server_cert_validation: ignore trusts "
        "any server that answers"
    ) in run.output
    assert "set agentroll_allow_insecure_transport: true" in run.output
    assert all(entries == [] for entries in runs["insecure_journal"].values())


def test_certificate_failures_are_unreachable_causes_with_advice(runs: dict[str, Any]) -> None:
    run = runs["validated"]
    hosts = {entry["host"]: entry for entry in run.report["hosts"]}
    assert {name: entry["state"] for name, entry in hosts.items()} == {
        "xa-01": "unreachable",
        "xa-02": "unreachable",
        "xa-03": "not_installed",
    }
    assert hosts["xa-01"]["causes"] == [{"code": "certificate_untrusted"}]
    assert hosts["xa-02"]["causes"] == [{"code": "certificate_name_mismatch"}]
    assert hosts["xa-01"]["reasons"] == ["certificate not trusted"]
    assert hosts["xa-02"]["reasons"] == ["certificate name mismatch"]
