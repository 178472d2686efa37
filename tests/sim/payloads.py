"""Build WinRS payloads for tests: from the golden captures, or shaped exactly like them."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).parent / "golden"
_SEPARATOR = b"\n\0\0\0\0\n"


def golden(name: str) -> tuple[str, bytes]:
    """Return (command_line, stdin) of a golden capture, e.g. ``golden("module-win_ping")``."""
    payload = json.loads(gzip.decompress((GOLDEN / f"{name}.json.gz").read_bytes()))
    return payload["command_line"], base64.b64decode(payload["stdin_b64"])


def encoded_command(script: str) -> str:
    """Return the command line Ansible uses for a plain PowerShell script."""
    encoded = base64.b64encode(script.encode("utf-16-le")).decode()
    return f"PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand {encoded}"


def module_payload(
    module: str,
    args: dict[str, Any] | None = None,
    *,
    check_mode: bool = False,
    diff: bool = False,
    no_log: bool = False,
    wrappers: tuple[str, ...] = (),
) -> tuple[str, bytes]:
    """Return a module run shaped like the golden win_ping run, for ``module`` (FQCN) and ``args``.

    ``ansible.windows.win_stat`` becomes the Script
    ``ansible_collections.ansible.windows.plugins.modules.win_stat.ps1``.
    """
    command_line, stdin = golden("module-win_ping")
    bootstrap, manifest = stdin.split(_SEPARATOR)
    exec_manifest = json.loads(manifest)
    action = exec_manifest["actions"][-1]
    namespace, collection, name = module.split(".")
    action["params"]["Script"] = f"ansible_collections.{namespace}.{collection}.plugins.modules.{name}.ps1"
    complex_args = {
        **(args or {}),
        "_ansible_check_mode": check_mode,
        "_ansible_diff": diff,
        "_ansible_no_log": no_log,
        "_ansible_module_name": name,
    }
    action["params"]["Variables"] = [{"Name": "complex_args", "Value": complex_args, "Scope": "Global"}]
    exec_manifest["actions"] = [{"name": w, "params": {}, "secure_params": {}} for w in wrappers] + [action]
    return command_line, bootstrap + _SEPARATOR + json.dumps(exec_manifest).encode()


def put_file_payload(path: str, data: bytes) -> tuple[str, bytes]:
    """Return a put_file command for ``path`` carrying ``data``, shaped like the golden one."""
    command_line, stdin = golden("putfile")
    bootstrap, manifest, _ = stdin.split(_SEPARATOR, 2)
    exec_manifest = json.loads(manifest)
    exec_manifest["actions"][-1]["params"]["Path"] = path
    lines = b"".join(base64.b64encode(data[i : i + 250000]) + b"\r\n" for i in range(0, len(data), 250000))
    return command_line, bootstrap + _SEPARATOR + json.dumps(exec_manifest).encode() + _SEPARATOR + lines


def fetch_payload(path: str, offset: int = 0, buffer_size: int = 524288) -> tuple[str, bytes]:
    """Return a fetch_file command, shaped like the golden one."""
    command_line, stdin = golden("fetchfile")
    bootstrap, manifest = stdin.split(_SEPARATOR)
    exec_manifest = json.loads(manifest)
    exec_manifest["actions"][-1]["params"].update(Path=path, Offset=offset, BufferSize=buffer_size)
    return command_line, bootstrap + _SEPARATOR + json.dumps(exec_manifest).encode()


def reboot_command(delay_seconds: int) -> str:
    """Return win_reboot's shutdown command line (ansible.windows plugin_utils/_reboot.py) for a delay."""
    logon_key = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoLogonChecked"
    shutdown = rf"C:\Windows\System32\shutdown.exe /r /t {delay_seconds} /c 'Reboot initiated by Ansible'"
    script = (
        "$ErrorActionPreference = 'Continue'\n\n"
        "if ($True) {\n"
        f"    Remove-Item -LiteralPath '{logon_key}' -Force -ErrorAction SilentlyContinue\n}}\n\n"
        "$stdout = $null\n"
        f"$stderr = . {{ {shutdown} | Set-Variable stdout }} 2>&1 | ForEach-Object ToString\n\n"
        "If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) {\n    $rc = $LASTEXITCODE\n} Else {\n"
        "    $rc=1\n}\n\n"
        "ConvertTo-Json -Compress -InputObject @{\n"
        '    stdout = (@($stdout) -join "`n")\n    stderr = (@($stderr) -join "`n")\n    rc = $rc\n}\n'
    )
    return reboot_wrapped(script)


def reboot_wrapped(command: str) -> str:
    """Return a command line as win_reboot's _execute_command builds it."""
    suffix = (
        "; If (-not $?) { If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) "
        "{ exit $LASTEXITCODE } Else { exit 1 } }"
    )
    return encoded_command(command + suffix)
