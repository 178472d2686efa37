"""win_reboot's plain commands: boot time, shutdown.exe /r, shutdown.exe /a and the post-reboot test.

The host goes down ``delay`` seconds after the shutdown command and is back ``boot_seconds``
later with a new boot time (``SimHost.settle`` applies it lazily); the transport refuses
connections meanwhile, through ``Fleet.connection_policy``.
"""

from __future__ import annotations

import json

from agentroll.sim.decoder import AbortShutdown, BootTimeQuery, RebootCommand, RebootTest
from agentroll.sim.handlers.base import filetime
from agentroll.sim.host import SimHost

CommandAnswer = tuple[bytes, bytes, int]

ALREADY_SCHEDULED = 1190
NO_SHUTDOWN_IN_PROGRESS = 1116


def answer(
    host: SimHost, invocation: BootTimeQuery | RebootCommand | AbortShutdown | RebootTest
) -> CommandAnswer:
    """Answer one of win_reboot's commands."""
    match invocation:
        case BootTimeQuery():
            return _boot_time(host)
        case RebootCommand():
            return _shutdown(host, invocation)
        case AbortShutdown():
            return _abort(host)
        case RebootTest():
            # The real test first prints the LogonUI registry key; only the token matters.
            return f"{invocation.token}\r\n".encode(), b"", 0


def _boot_time(host: SimHost) -> CommandAnswer:
    """Print LastBootUpTime as a FILETIME; PowerShell 2.0 has no Get-CimInstance."""
    if host.powershell_major_minor < (3, 0):
        message = (
            "The term 'Get-CimInstance' is not recognized as the name of a cmdlet, function, script file, "
            "or operable program. Check the spelling of the name, or if a path was included, verify that "
            "the path is correct and try again.\r\n"
        )
        return b"", message.encode(), 1
    return f"{filetime(host.boot_time)}\r\n".encode(), b"", 0


def _shutdown(host: SimHost, command: RebootCommand) -> CommandAnswer:
    """Schedule the restart and print the JSON the wrapped shutdown.exe call prints."""
    if host.reboot_down_at is not None:
        report = {
            "stdout": "",
            "stderr": "A system shutdown has already been scheduled.(1190)",
            "rc": ALREADY_SCHEDULED,
        }
        return json.dumps(report).encode() + b"\r\n", b"", 0
    host.schedule_reboot(command.delay_seconds)
    return json.dumps({"stdout": "", "stderr": "", "rc": 0}).encode() + b"\r\n", b"", 0


def _abort(host: SimHost) -> CommandAnswer:
    """Cancel a scheduled restart that has not started yet."""
    if host.reboot_down_at is not None and host.now() < host.reboot_down_at:
        host.reboot_down_at = None
        host.reboot_up_at = None
        return b"", b"", 0
    message = "Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n"
    return b"", message.encode(), NO_SHUTDOWN_IN_PROGRESS
