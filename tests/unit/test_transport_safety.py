"""Which WinRM settings would expose the password, and the one line per problem preflight prints."""

from __future__ import annotations

from typing import Any

import pytest

from agentroll.transport import problem_lines, problems

WINRM = {"ansible_connection": "winrm"}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # Ansible's defaults: port 5986, HTTPS, Basic inside TLS, the certificate validated.
        ({}, []),
        ({"ansible_port": 5985}, ["basic_over_http"]),
        ({"ansible_winrm_scheme": "http", "ansible_winrm_transport": "basic"}, ["basic_over_http"]),
        ({"ansible_winrm_scheme": "http", "ansible_winrm_transport": ["ntlm", "basic"]}, ["basic_over_http"]),
        ({"ansible_port": "5985", "ansible_winrm_transport": "ntlm"}, []),
        (
            {
                "ansible_port": 5985,
                "ansible_winrm_transport": "ntlm",
                "ansible_winrm_message_encryption": "never",
            },
            ["unencrypted_over_http"],
        ),
        ({"ansible_winrm_server_cert_validation": "ignore"}, ["certificate_ignored"]),
        ({"ansible_winrm_server_cert_validation": "validate", "ansible_winrm_transport": "ntlm"}, []),
        # Over plain HTTP no certificate is involved: the setting changes nothing.
        (
            {
                "ansible_port": 5985,
                "ansible_winrm_transport": "ntlm",
                "ansible_winrm_server_cert_validation": "ignore",
            },
            [],
        ),
        ({"ansible_port": 5985, "agentroll_allow_insecure_transport": True}, []),
        ({"ansible_port": 5985, "agentroll_allow_insecure_transport": "false"}, ["basic_over_http"]),
    ],
)
def test_problems_of_one_pc(settings: dict[str, Any], expected: list[str]) -> None:
    assert problems({**WINRM, **settings}) == expected


def test_a_pc_not_reached_over_winrm_is_none_of_its_business() -> None:
    assert problems({"ansible_connection": "local", "ansible_port": 5985}) == []


def test_one_line_per_problem_naming_the_pcs_and_the_fix() -> None:
    per_host = {f"pc-{n}": {**WINRM, "ansible_port": 5985} for n in range(1, 8)}
    per_host["srv"] = {**WINRM, "ansible_winrm_server_cert_validation": "ignore"}
    per_host["ok"] = {**WINRM}
    lines = problem_lines(per_host, list(per_host))
    assert lines == [
        "insecure WinRM transport on 7 PC(s) (pc-1, pc-2, pc-3, pc-4, pc-5 and 2 more): Basic authentication "
        "over plain HTTP sends the WinRM password readable on the network: use HTTPS (ansible_winrm_scheme: "
        "https, ansible_port: 5986) or NTLM (ansible_winrm_transport: ntlm)",
        "insecure WinRM transport on 1 PC(s) (srv): ansible_winrm_server_cert_validation: ignore trusts any "
        "server that answers, so a machine in the middle can collect the password: set it to validate and "
        "trust the PCs' certificate authority (ansible_winrm_ca_trust_path)",
        "only for a lab or a simulated fleet whose password opens nothing, set "
        "agentroll_allow_insecure_transport: true",
    ]
    assert problem_lines(per_host, ["ok"]) == []
