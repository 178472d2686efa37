"""Whether the WinRM settings of a PC would expose its password or trust any server.

Ansible's winrm connection happily sends Basic credentials over plain HTTP (readable by anyone on
the path) and, with ``ansible_winrm_server_cert_validation: ignore``, talks to whoever answers
(a man in the middle collects the password). Preflight refuses both before any PC is contacted,
unless the inventory says ``agentroll_allow_insecure_transport: true`` (the simulated fleet and
the demo district, whose passwords open nothing).

The defaults are Ansible's own (``ansible.plugins.connection.winrm``): port 5986; scheme ``http``
on port 5985, else ``https``; transport ``ssl`` (Basic inside TLS) over HTTPS, ``plaintext``
(Basic) over HTTP; NTLM and Kerberos encrypt every message unless message encryption is ``never``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: The inventory's explicit opt-out of the check.
ALLOW_VARIABLE = "agentroll_allow_insecure_transport"
#: The variables the check reads, per PC.
VARIABLES = (
    "ansible_connection",
    "ansible_port",
    "ansible_winrm_scheme",
    "ansible_winrm_transport",
    "ansible_winrm_server_cert_validation",
    "ansible_winrm_message_encryption",
    ALLOW_VARIABLE,
)

#: Problem code → what is wrong and how to fix it, in one line.
PROBLEMS: dict[str, str] = {
    "basic_over_http": (
        "Basic authentication over plain HTTP sends the WinRM password readable on the network: "
        "use HTTPS (ansible_winrm_scheme: https, ansible_port: 5986) or NTLM (ansible_winrm_transport: ntlm)"
    ),
    "unencrypted_over_http": (
        "ansible_winrm_message_encryption: never over plain HTTP sends every command readable: "
        "remove it (NTLM and Kerberos then encrypt) or use HTTPS"
    ),
    "certificate_ignored": (
        "ansible_winrm_server_cert_validation: ignore trusts any server that answers, so a machine in "
        "the middle can collect the password: set it to validate and trust the PCs' certificate "
        "authority (ansible_winrm_ca_trust_path)"
    ),
}
_BASIC = frozenset({"basic", "plaintext"})
_ENCRYPTING = frozenset({"ntlm", "kerberos", "credssp"})
#: How many PC names a problem line shows before "and N more".
_NAMES_SHOWN = 5


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _transports(value: Any, scheme: str) -> list[str]:
    if value is None or value == "":
        return ["ssl" if scheme == "https" else "plaintext"]
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip().lower() for item in items if str(item).strip()]


def problems(connection: Mapping[str, Any]) -> list[str]:
    """The problem codes (``PROBLEMS``) of one PC's connection variables; none when allowed."""
    if _truthy(connection.get(ALLOW_VARIABLE)) or connection.get("ansible_connection") != "winrm":
        return []
    port = str(connection.get("ansible_port") or 5986).strip()
    scheme = str(connection.get("ansible_winrm_scheme") or ("http" if port == "5985" else "https")).lower()
    found = []
    if scheme == "http":
        transports = _transports(connection.get("ansible_winrm_transport"), scheme)
        # pywinrm takes the first transport it can; any Basic in the list may be the one used.
        if _BASIC.intersection(transports):
            found.append("basic_over_http")
        elif str(connection.get("ansible_winrm_message_encryption") or "auto").lower() == "never" and (
            _ENCRYPTING.intersection(transports)
        ):
            found.append("unencrypted_over_http")
    elif str(connection.get("ansible_winrm_server_cert_validation") or "validate").lower() == "ignore":
        found.append("certificate_ignored")
    return found


def problem_lines(per_host: Mapping[str, Mapping[str, Any]], hosts: Iterable[str]) -> list[str]:
    """One line per problem found among ``hosts`` (their connection variables in ``per_host``):
    which PCs, what is wrong and how to fix it; then how to accept it knowingly."""
    affected: dict[str, list[str]] = {}
    for host in hosts:
        for code in problems(per_host.get(host) or {}):
            affected.setdefault(code, []).append(host)
    lines = []
    for code, names in affected.items():
        shown = ", ".join(names[:_NAMES_SHOWN])
        more = f" and {len(names) - _NAMES_SHOWN} more" if len(names) > _NAMES_SHOWN else ""
        lines.append(f"insecure WinRM transport on {len(names)} PC(s) ({shown}{more}): {PROBLEMS[code]}")
    if lines:
        lines.append(
            f"only for a lab or a simulated fleet whose password opens nothing, set {ALLOW_VARIABLE}: true"
        )
    return lines
