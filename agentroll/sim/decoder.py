"""Decode what Ansible sends over WinRS into a typed invocation, without touching any host.

Two shapes reach a Windows host (agentroll/sim/README.md lists what each answers):

* a *bootstrapped* run: the command is ``powershell … -EncodedCommand <bootstrap_wrapper.ps1>``
  and stdin holds two JSON documents (the bootstrap manifest, then the exec manifest) separated
  by a line of four NUL bytes; put_file appends another separator and base64 lines of data;
* a *plain* encoded script: ``powershell … -EncodedCommand <UTF-16LE base64>`` with no stdin:
  win_reboot's commands, the shell plugin's clean-up and ``raw``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

_SEPARATOR = b"\0\0\0\0"
_MODULE_WRAPPER = "module_wrapper.ps1"
_COLLECTION_SCRIPT = re.compile(r"^ansible_collections\.([^.]+)\.([^.]+)\.plugins\.modules\.([^.]+)$")
_BOOT_TIME_MARK = "LastBootUpTime.ToFileTime()"
_SHUTDOWN_RESTART = re.compile(r"shutdown(?:\.exe)?\s+/r\s+/t\s+(\d+)(?:\s+/c\s+(.*?))?\s*\|", re.IGNORECASE)
_SHUTDOWN_ABORT = re.compile(r"shutdown(?:\.exe)?\s+/a\b", re.IGNORECASE)
_REBOOT_TOKEN = re.compile(r"'(success-[0-9a-fA-F-]{36})'")
_REMOVE_ITEM = re.compile(
    r"^\s*Remove-Item\s+(?P<path>'(?:[^']|'')*'|\S+)\s+-Force(?P<recurse>\s+-Recurse)?\s*$"
)
_TEST_PATH = re.compile(r"^\s*exit\s+-not\s+\(Test-Path\s+-LiteralPath\s+(?P<path>'(?:[^']|'')*'|\S+)\)\s*$")
#: win_reboot appends this to every command it runs, to propagate the exit code.
_RC_SUFFIX = re.compile(
    r";\s*If \(-not \$\?\) \{ If \(Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue\) "
    r"\{ exit \$LASTEXITCODE \} Else \{ exit 1 \} \}\s*$"
)


@dataclass(frozen=True)
class ModuleRun:
    """A module run through the exec wrapper (pipelined)."""

    fqcn: str
    args: dict[str, Any]
    script: str
    check_mode: bool = False
    diff: bool = False
    no_log: bool = False
    #: Exec wrapper actions that run before the module, e.g. ``become_wrapper.ps1``.
    wrappers: tuple[str, ...] = ()
    min_ps_version: str | None = None


@dataclass(frozen=True)
class PutFile:
    """The connection plugin's put_file: write ``data`` at ``path`` and answer its sha1."""

    path: str
    data: bytes


@dataclass(frozen=True)
class FetchFile:
    """The connection plugin's fetch_file: one chunk of a file, base64 on stdout."""

    path: str
    offset: int
    buffer_size: int


@dataclass(frozen=True)
class MakeTempDir:
    """The shell plugin's remote temporary directory creation."""

    directory: str
    name: str


@dataclass(frozen=True)
class ExpandUser:
    """The shell plugin's ``~`` expansion."""

    path: str


@dataclass(frozen=True)
class BootTimeQuery:
    """win_reboot's query of the last boot time as a FILETIME."""


@dataclass(frozen=True)
class RebootCommand:
    """win_reboot's ``shutdown.exe /r /t N`` wrapped to print JSON {stdout, stderr, rc}."""

    delay_seconds: int
    message: str


@dataclass(frozen=True)
class AbortShutdown:
    """``shutdown.exe /a``: win_reboot's answer to an already scheduled shutdown."""


@dataclass(frozen=True)
class RebootTest:
    """win_reboot's post-reboot check; stdout must contain ``token``."""

    token: str


@dataclass(frozen=True)
class RemovePath:
    """The shell plugin's clean-up of a remote temporary directory."""

    path: str
    recurse: bool


@dataclass(frozen=True)
class PathExists:
    """The shell plugin's existence check (exit 0 when the path exists)."""

    path: str


@dataclass(frozen=True)
class Script:
    """Any other plain PowerShell script, e.g. what the ``raw`` module sends."""

    text: str
    #: The text with win_reboot's exit-code suffix removed (what the user asked for).
    body: str = ""


@dataclass(frozen=True)
class Unknown:
    """Something the decoder does not understand; the handler layer fails loudly on it."""

    reason: str
    command_line: str = ""
    details: dict[str, Any] = field(default_factory=dict)


Invocation = (
    ModuleRun
    | PutFile
    | FetchFile
    | MakeTempDir
    | ExpandUser
    | BootTimeQuery
    | RebootCommand
    | AbortShutdown
    | RebootTest
    | RemovePath
    | PathExists
    | Script
    | Unknown
)


def decode(command_line: str, stdin: bytes) -> Invocation:
    """Turn one WinRS command (command line and the stdin it received) into an invocation."""
    script = decode_encoded_command(command_line)
    if script is None:
        return Unknown("not a PowerShell -EncodedCommand command line", command_line)
    if _is_bootstrap(script):
        return _decode_bootstrapped(stdin, command_line)
    return _decode_plain_script(script)


def decode_encoded_command(command_line: str) -> str | None:
    """Return the script of ``powershell … -EncodedCommand <b64>``, or None if there is none."""
    try:
        words = shlex.split(command_line, posix=False)
    except ValueError:
        words = command_line.split()
    lowered = [w.lower() for w in words]
    for flag in ("-encodedcommand", "-enc", "-e", "-ec"):
        if flag in lowered:
            index = lowered.index(flag)
            break
    else:
        return None
    if index + 1 >= len(words):
        return None
    try:
        return base64.b64decode(words[index + 1], validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _is_bootstrap(script: str) -> bool:
    """Whether the script is ansible-core's bootstrap_wrapper.ps1."""
    return "param([string]$InputFile)" in script and "ConvertFrom-Json" in script


def split_stdin(stdin: bytes) -> list[bytes]:
    """Split bootstrap stdin at its lines of four NUL bytes."""
    return [part.strip(b"\r\n") for part in stdin.split(_SEPARATOR)]


def _decode_bootstrapped(stdin: bytes, command_line: str) -> Invocation:
    """Decode a bootstrap_wrapper run from its stdin manifests."""
    parts = split_stdin(stdin)
    if len(parts) < 2:
        return Unknown("bootstrap wrapper without an exec manifest on stdin", command_line)
    try:
        bootstrap = json.loads(parts[0])
        manifest = json.loads(parts[1])
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return Unknown(f"bootstrap stdin is not JSON: {error}", command_line)
    actions = manifest.get("actions") or []
    if not actions:
        return Unknown("exec manifest has no actions", command_line)
    last = actions[-1]
    name = str(last.get("name", ""))
    params = last.get("params") or {}
    if name == _MODULE_WRAPPER:
        wrappers = tuple(str(a.get("name")) for a in actions[:-1])
        min_ps = (bootstrap.get("params") or {}).get("MinPSVersion")
        return _decode_module_run(params, wrappers, min_ps, command_line)
    if name == "winrm_put_file.ps1":
        return PutFile(path=str(params.get("Path", "")), data=_put_file_data(parts[2:]))
    if name == "winrm_fetch_file.ps1":
        return FetchFile(
            path=str(params.get("Path", "")),
            offset=int(params.get("Offset", 0)),
            buffer_size=int(params.get("BufferSize", 524288)),
        )
    if name == "powershell_mkdtemp.ps1":
        return MakeTempDir(directory=str(params.get("Directory", "")), name=str(params.get("Name", "")))
    if name == "powershell_expand_user.ps1":
        return ExpandUser(path=str(params.get("Path", "")))
    return Unknown(f"unsupported exec wrapper action {name!r}", command_line, {"action": name})


def _decode_module_run(
    params: dict[str, Any], wrappers: tuple[str, ...], min_ps: str | None, command_line: str
) -> Invocation:
    """Decode the module_wrapper action: module name from its Script, args from complex_args."""
    script = str(params.get("Script", ""))
    fqcn = module_fqcn(script)
    if fqcn is None:
        return Unknown(f"cannot tell the module from script {script!r}", command_line)
    variables = params.get("Variables") or []
    args = next((v.get("Value") for v in variables if v.get("Name") == "complex_args"), None)
    if not isinstance(args, dict):
        args = {}
    return ModuleRun(
        fqcn=fqcn,
        args=args,
        script=script,
        check_mode=bool(args.get("_ansible_check_mode", False)),
        diff=bool(args.get("_ansible_diff", False)),
        no_log=bool(args.get("_ansible_no_log", False)),
        wrappers=wrappers,
        min_ps_version=min_ps,
    )


def module_fqcn(script: str) -> str | None:
    """Return the module's FQCN from the exec manifest's Script name.

    ``ansible_collections.ansible.windows.plugins.modules.win_ping.ps1`` → ``ansible.windows.win_ping``;
    ``ansible.modules.X`` (core) → ``ansible.builtin.X``; ``ansible.legacy.X`` stays as it is.
    """
    stem = script[:-4] if script.lower().endswith(".ps1") else script
    match = _COLLECTION_SCRIPT.match(stem)
    if match:
        return ".".join(match.groups())
    if stem.startswith("ansible.modules."):
        return "ansible.builtin." + stem.rsplit(".", 1)[-1]
    if stem.startswith("ansible.legacy."):
        return stem
    return None


def _put_file_data(chunks: list[bytes]) -> bytes:
    """Decode put_file's base64 lines (each chunk ends in CRLF) into the file's bytes."""
    data = bytearray()
    for chunk in chunks:
        for line in chunk.splitlines():
            line = line.strip()
            if line:
                data += base64.b64decode(line)
    return bytes(data)


def _decode_plain_script(script: str) -> Invocation:
    """Recognise win_reboot's commands and the shell plugin's housekeeping; else a Script."""
    body = _RC_SUFFIX.sub("", script).strip()
    if _BOOT_TIME_MARK in body:
        return BootTimeQuery()
    restart = _SHUTDOWN_RESTART.search(body)
    if restart:
        return RebootCommand(delay_seconds=int(restart.group(1)), message=_unquote(restart.group(2) or ""))
    if _SHUTDOWN_ABORT.search(body):
        return AbortShutdown()
    token = _REBOOT_TOKEN.search(body)
    if token and "AutoLogonChecked" in body:
        return RebootTest(token=token.group(1))
    removal = _REMOVE_ITEM.match(body)
    if removal:
        return RemovePath(path=_unquote(removal.group("path")), recurse=bool(removal.group("recurse")))
    test = _TEST_PATH.match(body)
    if test:
        return PathExists(path=_unquote(test.group("path")))
    return Script(text=script, body=body)


def _unquote(word: str) -> str:
    """Undo PowerShell single quoting (``'it''s'`` → ``it's``)."""
    word = word.strip()
    if len(word) >= 2 and word[0] == word[-1] == "'":
        return word[1:-1].replace("''", "'")
    return word
