"""The decoder on real captured payloads (tests/sim/golden) and on hand-made edge cases."""

from __future__ import annotations

import base64
import json

import pytest
from payloads import encoded_command, golden, module_payload, put_file_payload, reboot_command, reboot_wrapped

from agentroll.sim.decoder import (
    AbortShutdown,
    BootTimeQuery,
    ExpandUser,
    FetchFile,
    MakeTempDir,
    ModuleRun,
    PathExists,
    PutFile,
    RebootCommand,
    RebootTest,
    RemovePath,
    Script,
    Unknown,
    decode,
    decode_encoded_command,
    module_fqcn,
)


@pytest.mark.parametrize(
    ("name", "fqcn", "check_mode"),
    [
        ("module-win_ping.full", "ansible.windows.win_ping", False),
        ("module-win_ping", "ansible.windows.win_ping", False),
        ("module-setup", "ansible.windows.setup", False),
        ("module-win_hostname-check", "ansible.windows.win_hostname", True),
        ("module-win_hostname", "ansible.windows.win_hostname", False),
        ("module-win_package-check", "ansible.windows.win_package", True),
        ("module-win_agentroll_probe", "agentroll.toolkit.win_agentroll_probe", False),
        ("module-win_copy-query", "ansible.windows.win_copy", False),
        ("module-win_service", "ansible.windows.win_service", False),
    ],
)
def test_golden_module_runs_name_the_module_and_check_mode(name: str, fqcn: str, check_mode: bool) -> None:
    """The FQCN comes from the last module_wrapper action's Script, check mode from complex_args."""
    invocation = decode(*golden(name))
    assert isinstance(invocation, ModuleRun)
    assert invocation.fqcn == fqcn
    assert invocation.check_mode is check_mode
    assert invocation.wrappers == ()
    assert invocation.args["_ansible_check_mode"] is check_mode


def test_golden_module_args_are_complex_args() -> None:
    """Task args arrive in params.Variables[complex_args], next to Ansible's _ansible_* keys."""
    hostname = decode(*golden("module-win_hostname"))
    assert isinstance(hostname, ModuleRun)
    assert hostname.args["name"] == "SNV-THANGPV"
    setup = decode(*golden("module-setup"))
    assert isinstance(setup, ModuleRun)
    # What the user typed is not the module that runs: never trust _ansible_module_name.
    assert setup.args["_ansible_module_name"] == "ansible.legacy.setup"
    command = decode(*golden("module-win_command"))
    assert isinstance(command, ModuleRun)
    assert command.args["_raw_params"] == "hostname"


def test_golden_win_copy_single_mode_points_at_the_uploaded_file() -> None:
    """win_copy's second module run copies the put_file target into place."""
    invocation = decode(*golden("module-win_copy-single"))
    assert isinstance(invocation, ModuleRun)
    assert invocation.args["_copy_mode"] == "single"
    assert invocation.args["src"].endswith("\\source")
    assert invocation.args["dest"] == "C:\\agentroll\\agent.msi"


def test_golden_put_file_carries_the_file_bytes() -> None:
    """put_file: Path from the action, data from the base64 lines after the second separator."""
    invocation = decode(*golden("putfile"))
    assert isinstance(invocation, PutFile)
    assert invocation.path.endswith("\\source")
    assert json.loads(invocation.data)["agentroll_sim_installer"] == 1


def test_golden_fetch_file() -> None:
    """fetch_file asks for one 512 KiB chunk at an offset."""
    invocation = decode(*golden("fetchfile"))
    assert invocation == FetchFile(path="C:\\agentroll\\agent.msi", offset=0, buffer_size=524288)


def test_golden_temp_dir_and_cleanup() -> None:
    """The shell plugin's mkdtemp (bootstrapped) and its Remove-Item clean-up (plain)."""
    made = decode(*golden("maketempdir"))
    assert isinstance(made, MakeTempDir)
    assert made.directory == "%TEMP%"
    assert made.name.startswith("ansible-tmp-")
    removed = decode(*golden("removepath"))
    assert isinstance(removed, RemovePath)
    assert removed.recurse
    assert made.name in removed.path


def test_golden_win_reboot_sequence() -> None:
    """Boot time query, shutdown.exe /r /t N, and the test command with its success token."""
    assert isinstance(decode(*golden("boottimequery")), BootTimeQuery)
    shutdown = decode(*golden("rebootcommand"))
    assert isinstance(shutdown, RebootCommand) and shutdown.message == "Reboot initiated by Ansible"
    test = decode(*golden("reboottest"))
    assert isinstance(test, RebootTest)
    assert test.token.startswith("success-")


def test_golden_raw_is_the_plain_script() -> None:
    """raw sends the user's text as the encoded script, unwrapped."""
    assert decode(*golden("script")) == Script(text="sc query SnvAgent", body="sc query SnvAgent")


def test_encoded_command_round_trip_and_absence() -> None:
    """-EncodedCommand is UTF-16LE base64; no such flag means no script."""
    assert decode_encoded_command(encoded_command("hostname; 'ü'")) == "hostname; 'ü'"
    assert decode_encoded_command("cmd.exe /c dir") is None
    assert decode_encoded_command("powershell -EncodedCommand ***") is None


@pytest.mark.parametrize(
    ("script", "fqcn"),
    [
        ("ansible_collections.ansible.windows.plugins.modules.win_ping.ps1", "ansible.windows.win_ping"),
        (
            "ansible_collections.agentroll.toolkit.plugins.modules.win_agentroll_probe.ps1",
            "agentroll.toolkit.win_agentroll_probe",
        ),
        ("ansible.modules.win_ping.ps1", "ansible.builtin.win_ping"),
        ("ansible.legacy.my_module.ps1", "ansible.legacy.my_module"),
        ("something_else.ps1", None),
    ],
)
def test_module_fqcn(script: str, fqcn: str | None) -> None:
    """Collection, core and legacy (library/role) script names map to FQCNs."""
    assert module_fqcn(script) == fqcn


def test_wrappers_before_the_module_are_reported() -> None:
    """become/async actions before module_wrapper.ps1 are listed, the module is still found."""
    invocation = decode(*module_payload("ansible.windows.win_ping", wrappers=("become_wrapper.ps1",)))
    assert isinstance(invocation, ModuleRun)
    assert invocation.wrappers == ("become_wrapper.ps1",)
    assert invocation.fqcn == "ansible.windows.win_ping"


def test_no_log_and_diff_flags() -> None:
    """no_log and diff come from complex_args."""
    invocation = decode(*module_payload("ansible.windows.win_ping", no_log=True, diff=True))
    assert isinstance(invocation, ModuleRun)
    assert invocation.no_log and invocation.diff


def test_put_file_of_many_chunks_and_empty_file() -> None:
    """put_file data spans several base64 lines; an empty file has none."""
    data = bytes(range(256)) * 3000
    invocation = decode(*put_file_payload("C:\\x.bin", data))
    assert isinstance(invocation, PutFile) and invocation.data == data
    empty = decode(*put_file_payload("C:\\empty", b""))
    assert isinstance(empty, PutFile) and empty.data == b""


def test_reboot_commands_with_the_rc_suffix() -> None:
    """win_reboot wraps every command with an exit-code suffix; the decoder sees through it."""
    assert isinstance(decode(reboot_wrapped(r"C:\Windows\System32\shutdown.exe /a"), b""), AbortShutdown)
    boot = (
        "(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime)"
        ".LastBootUpTime.ToFileTime()"
    )
    assert isinstance(decode(reboot_wrapped(boot), b""), BootTimeQuery)
    custom = decode(reboot_wrapped("whoami"), b"")
    assert isinstance(custom, Script) and custom.body == "whoami"


def test_shell_plumbing() -> None:
    """Existence checks and clean-up with quoted paths."""
    assert decode(encoded_command("exit -not (Test-Path -LiteralPath 'C:\\it''s')"), b"") == PathExists(
        "C:\\it's"
    )
    assert decode(encoded_command("Remove-Item 'C:\\tmp dir' -Force"), b"") == RemovePath(
        "C:\\tmp dir", False
    )


@pytest.mark.parametrize(
    ("command_line", "stdin", "reason"),
    [
        ("cmd.exe /c dir", b"", "not a PowerShell"),
        (golden("module-win_ping")[0], b"", "without an exec manifest"),
        (golden("module-win_ping")[0], b"{not json\n\0\0\0\0\n{}", "not JSON"),
        (golden("module-win_ping")[0], b'{}\n\0\0\0\0\n{"actions": []}', "no actions"),
        (
            golden("module-win_ping")[0],
            b'{}\n\0\0\0\0\n{"actions": [{"name": "x.ps1", "params": {}}]}',
            "x.ps1",
        ),
    ],
)
def test_unknown_payloads_are_typed_unknown(command_line: str, stdin: bytes, reason: str) -> None:
    """Whatever the decoder cannot read becomes Unknown with a reason, never an exception."""
    invocation = decode(command_line, stdin)
    assert isinstance(invocation, Unknown)
    assert reason in invocation.reason


def test_expand_user_action() -> None:
    """powershell_expand_user.ps1 decodes to ExpandUser."""
    command_line, stdin = golden("maketempdir")
    bootstrap, manifest = stdin.split(b"\n\0\0\0\0\n")
    exec_manifest = json.loads(manifest)
    exec_manifest["actions"] = [{"name": "powershell_expand_user.ps1", "params": {"Path": "~\\x"}}]
    invocation = decode(command_line, bootstrap + b"\n\0\0\0\0\n" + json.dumps(exec_manifest).encode())
    assert invocation == ExpandUser("~\\x")


def test_golden_full_payload_is_really_untrimmed() -> None:
    """The .full golden keeps the exec wrapper's scripts, proving the decoder reads real payloads."""
    _, stdin = golden("module-win_ping.full")
    manifest = json.loads(stdin.split(b"\n\0\0\0\0\n")[1])
    assert base64.b64decode(manifest["scripts"]["module_wrapper.ps1"]["script"])


def test_reboot_command_built_like_the_plugin() -> None:
    """The shutdown script as _reboot.py formats it decodes with its delay."""
    assert decode(reboot_command(7), b"") == RebootCommand(
        delay_seconds=7, message="Reboot initiated by Ansible"
    )
