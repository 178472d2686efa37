"""win_command, win_shell and raw: a small, documented subset of commands, nothing else.

Supported: ``hostname``, ``whoami``, ``ipconfig``, ``sc query NAME`` (also ``sc.exe``),
``echo``/``Write-Output`` of literal text, ``$PSVersionTable.PSVersion.ToString()`` /
``.Major``, ``(Get-CimInstance|Get-WmiObject Win32_OperatingSystem).Caption``, ``exit N``.
Statements may be separated by ``;`` or new lines. Anything else fails with rc 1 and
``not simulated: <statement>`` on stderr, so that nothing succeeds by accident.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from agentroll.sim.decoder import ModuleRun
from agentroll.sim.handlers.base import ModuleResult, ModuleSpec, module_handler, windows_datetime
from agentroll.sim.host import SimHost

CommandAnswer = tuple[bytes, bytes, int]
StatementAnswer = tuple[str, str, int]

_SC_QUERY = re.compile(r"^sc(?:\.exe)?\s+query\s+(\S+)$", re.IGNORECASE)
_ECHO = re.compile(r"^(?:echo|write-output|write-host)\s+(.*)$", re.IGNORECASE)
_EXIT = re.compile(r"^exit\s+(-?\d+)$", re.IGNORECASE)
_OS_CAPTION = re.compile(
    r"^\((?:get-ciminstance|get-wmiobject)\s+(?:-classname\s+|-class\s+)?win32_operatingsystem\)\.caption$",
    re.IGNORECASE,
)
_SC_STATES = {"running": "4  RUNNING", "stopped": "1  STOPPED"}


def run_raw(host: SimHost, script: str) -> CommandAnswer:
    """Run a raw script and return (stdout, stderr, rc) as powershell.exe would."""
    stdout, stderr, rc = run_statements(host, script)
    return stdout.encode(), stderr.encode(), rc


def run_statements(host: SimHost, script: str) -> StatementAnswer:
    """Run each statement in turn; stop at ``exit`` or the first unsupported statement."""
    out: list[str] = []
    rc = 0
    for statement in _split_statements(script):
        stdout, stderr, rc = _run_statement(host, statement)
        out.append(stdout)
        if stderr:
            return "".join(out), stderr, rc
        if _EXIT.match(statement):
            break
    return "".join(out), "", rc


def _split_statements(script: str) -> list[str]:
    """Split a script into statements at new lines and semicolons outside quotes."""
    statements: list[str] = []
    current: list[str] = []
    quote = ""
    for char in script:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in ";\r\n":
            statements.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    statements.append("".join(current).strip())
    return [s for s in statements if s]


def _run_statement(host: SimHost, statement: str) -> StatementAnswer:
    """Run one statement of the supported subset."""
    simple: dict[str, Callable[[SimHost], str]] = {
        "hostname": lambda h: h.computer_name,
        "hostname.exe": lambda h: h.computer_name,
        "whoami": lambda h: f"{h.computer_name.lower()}\\{h.username.lower()}",
        "whoami.exe": lambda h: f"{h.computer_name.lower()}\\{h.username.lower()}",
        "ipconfig": _ipconfig,
        "ipconfig.exe": _ipconfig,
        "$psversiontable.psversion.tostring()": lambda h: h.powershell_version,
        "$psversiontable.psversion.major": lambda h: str(h.powershell_major_minor[0]),
    }
    handler = simple.get(statement.lower())
    if handler is not None:
        return handler(host) + "\r\n", "", 0
    if _OS_CAPTION.match(statement):
        return host.os_caption + "\r\n", "", 0
    sc_query = _SC_QUERY.match(statement)
    if sc_query:
        return _sc_query(host, sc_query.group(1))
    echo = _ECHO.match(statement)
    if echo:
        return _unquote(echo.group(1)) + "\r\n", "", 0
    exit_code = _EXIT.match(statement)
    if exit_code:
        return "", "", int(exit_code.group(1))
    return "", f"not simulated: {statement}\r\n", 1


def _unquote(text: str) -> str:
    """Strip one level of PowerShell quotes from literal text."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _ipconfig(host: SimHost) -> str:
    """Return ipconfig's output for the host's one adapter."""
    return (
        "\r\nWindows IP Configuration\r\n\r\n\r\nEthernet adapter Ethernet:\r\n\r\n"
        "   Connection-specific DNS Suffix  . : \r\n"
        f"   IPv4 Address. . . . . . . . . . . : {host.address}\r\n"
        "   Subnet Mask . . . . . . . . . . . : 255.0.0.0\r\n"
        "   Default Gateway . . . . . . . . . : "
    )


def _sc_query(host: SimHost, name: str) -> StatementAnswer:
    """Return ``sc query NAME`` output, or its error 1060 for a missing service."""
    service = host.find_service(name)
    if service is None:
        return (
            "[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\n"
            "The specified service does not exist as an installed service.\r\n\r\n",
            "",
            1060,
        )
    exit_code = 0 if service.state == "running" or service.product_id is None else 1077
    text = (
        f"\r\nSERVICE_NAME: {service.name} \r\n"
        "        TYPE               : 10  WIN32_OWN_PROCESS  \r\n"
        f"        STATE              : {_SC_STATES[service.state]} \r\n"
        f"        WIN32_EXIT_CODE    : {exit_code}  (0x{exit_code:x})\r\n"
        "        SERVICE_EXIT_CODE  : 0  (0x0)\r\n"
        "        CHECKPOINT         : 0x0\r\n"
        "        WAIT_HINT          : 0x0\r\n"
    )
    return text, "", 0


# --- win_command / win_shell ----------------------------------------------------------------

_COMMAND_SPEC = ModuleSpec(
    options=dict.fromkeys(["_raw_params", "cmd", "argv", "chdir", "creates", "removes", "stdin"])
    | {"output_encoding_override": None},
    supports_check_mode=False,
)
_SHELL_SPEC = ModuleSpec(
    options=dict.fromkeys(["_raw_params", "chdir", "creates", "removes", "stdin", "executable"])
    | {"no_profile": False, "output_encoding_override": None},
    supports_check_mode=False,
)


@module_handler("win_command", _COMMAND_SPEC)
def win_command(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Run a command of the supported subset; non-zero rc fails with "non-zero return code"."""
    argv = params["argv"]
    command = " ".join(argv) if isinstance(argv, list) else str(params["_raw_params"] or params["cmd"] or "")
    return _run_command_module(host, command, params)


@module_handler("win_shell", _SHELL_SPEC)
def win_shell(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Run a shell script of the supported subset."""
    return _run_command_module(host, str(params["_raw_params"] or ""), params)


def _run_command_module(host: SimHost, command: str, params: dict[str, Any]) -> ModuleResult:
    """Shared body of win_command and win_shell: creates/removes, then run and time it."""
    if params["creates"] and host.files.exists(params["creates"]):
        return _skipped(command, f"skipped, since {params['creates']} exists")
    if params["removes"] and not host.files.exists(params["removes"]):
        return _skipped(command, f"skipped, since {params['removes']} does not exist")
    started = host.now()
    wall_started = time.perf_counter()
    stdout, stderr, rc = run_statements(host, command)
    elapsed = time.perf_counter() - wall_started
    result: ModuleResult = {
        "changed": True,
        "cmd": command,
        "rc": rc,
        "stdout": stdout,
        "stderr": stderr,
        "start": windows_datetime(started),
        "end": windows_datetime(started + elapsed),
        "delta": f"0:00:{elapsed:09.6f}",
    }
    if rc != 0:
        result.update(failed=True, msg="non-zero return code")
    return result


def _skipped(command: str, message: str) -> ModuleResult:
    """The result when creates/removes says there is nothing to do."""
    return {
        "changed": False,
        "skipped": True,
        "msg": message,
        "cmd": command,
        "rc": 0,
        "stdout": "",
        "stderr": "",
    }
