"""Answer decoded invocations on a simulated host, and journal every one of them.

Importing this package registers every module handler (one small module per family).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any

from agentroll.sim.decoder import (
    AbortShutdown,
    BootTimeQuery,
    ExpandUser,
    FetchFile,
    Invocation,
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
)
from agentroll.sim.handlers import command, files, hostname, package, ping, probe, reboot, service
from agentroll.sim.handlers.base import (
    ModuleFailure,
    find_module,
    json_line,
    module_params,
    registered_modules,
)
from agentroll.sim.host import SimHost
from agentroll.sim.types import CommandResult

__all__ = ["Outcome", "registered_modules", "run_invocation"]

#: What ansible-core's bootstrap_wrapper.ps1 prints on PowerShell older than 5.1 (then exit 1).
BOOTSTRAP_TOO_OLD = '{"failed":true,"msg":"Ansible requires PowerShell v5.1"}'

_BOOTSTRAPPED = (ModuleRun, PutFile, FetchFile, MakeTempDir, ExpandUser)


@dataclass
class Outcome:
    """A command's answer plus what the journal needs to know about it."""

    stdout: bytes
    stderr: bytes
    rc: int
    kind: str
    module: str | None = None
    args: dict[str, Any] | None = None
    no_log: bool = False
    changed: bool = False
    failed: bool = False


def run_invocation(host: SimHost, command_line: str, stdin: bytes) -> CommandResult:
    """Decode one WinRS command, answer it on ``host`` and journal it."""
    invocation = decode(command_line, stdin)
    with host.lock:
        host.settle()
        started = time.perf_counter()
        before = host.digest()
        outcome = answer(host, invocation)
        mutated = host.digest() != before
        host.journal.record(
            time=host.now(),
            kind=outcome.kind,
            module=outcome.module,
            args=outcome.args,
            no_log=outcome.no_log,
            changed=outcome.changed,
            failed=outcome.failed,
            rc=outcome.rc,
            duration_ms=(time.perf_counter() - started) * 1000,
            mutated=mutated,
        )
    return CommandResult(outcome.stdout, outcome.stderr, outcome.rc)


def answer(host: SimHost, invocation: Invocation) -> Outcome:
    """Route an invocation to the handler family that answers it."""
    if isinstance(invocation, _BOOTSTRAPPED) and not host.ansible_can_manage:
        return _too_old_for_ansible(host, invocation)
    match invocation:
        case ModuleRun():
            return run_module(host, invocation)
        case PutFile() | FetchFile() | MakeTempDir() | ExpandUser() | RemovePath() | PathExists():
            return _from_tuple(files.answer_transfer(host, invocation), _kind(invocation))
        case BootTimeQuery() | RebootCommand() | AbortShutdown() | RebootTest():
            return _from_tuple(reboot.answer(host, invocation), _kind(invocation))
        case Script():
            return _from_tuple(command.run_raw(host, invocation.body or invocation.text), "raw")
        case Unknown():
            message = f"agentroll sim: unsupported command ({invocation.reason})"
            return Outcome(b"", message.encode() + b"\r\n", 1, "unknown", failed=True)
    raise TypeError(f"unhandled invocation type {type(invocation).__name__}")  # pragma: no cover


def run_module(host: SimHost, run: ModuleRun) -> Outcome:
    """Run one module handler the way the exec wrapper and Ansible.Basic would."""
    host.call_count += 1
    module = find_module(run.fqcn)
    if module is None:
        result = {
            "failed": True,
            "changed": False,
            "msg": f"agentroll sim: module {run.fqcn} is not simulated",
        }
    elif host.faults.fail_on_call == host.call_count:
        result = _injected_failure(run)
    elif "async_wrapper.ps1" in run.wrappers:
        # An async run answers with a job id and needs async_status polling: not modelled.
        message = f"agentroll sim: async runs are not simulated ({run.fqcn})"
        result = {"failed": True, "changed": False, "msg": message}
    elif run.check_mode and not module.spec.supports_check_mode:
        result = {
            "changed": False,
            "skipped": True,
            "msg": f"remote module ({module.name}) does not support check mode",
        }
    else:
        try:
            params = module_params(run, module)
            result = module.handler(host, run, params)
        except ModuleFailure as failure:
            result = {"changed": False, **failure.result, "failed": True, "msg": failure.msg}
        except Exception as error:  # a simulator bug: fail the task loudly rather than the HTTP request
            result = {
                "changed": False,
                "failed": True,
                "msg": f"agentroll sim: handler for {run.fqcn} crashed: {type(error).__name__}: {error}",
                "exception": traceback.format_exc(),
            }
    result.setdefault("changed", False)
    failed = bool(result.get("failed"))
    return Outcome(
        stdout=json_line(result),
        stderr=b"",
        rc=1 if failed else 0,
        kind="module",
        module=run.fqcn,
        args=run.args,
        no_log=run.no_log,
        changed=bool(result.get("changed")),
        failed=failed,
    )


def _injected_failure(run: ModuleRun) -> dict[str, Any]:
    """The fail_on_call fault: the error a module sees when WMI/RPC falls over mid-run."""
    error = "The RPC server is unavailable. (Exception from HRESULT: 0x800706BA)"
    return {
        "failed": True,
        "changed": False,
        "msg": f"Unhandled exception while executing module: {error}",
        "exception": (
            f"{error}\r\nAt {run.script}:1 char:1\r\n+ CategoryInfo : NotSpecified: (:) [], COMException"
        ),
    }


def _too_old_for_ansible(host: SimHost, invocation: Invocation) -> Outcome:
    """Answer a bootstrapped run the way bootstrap_wrapper.ps1 does on PowerShell < 5.1."""
    module = invocation.fqcn if isinstance(invocation, ModuleRun) else None
    args = invocation.args if isinstance(invocation, ModuleRun) else None
    no_log = invocation.no_log if isinstance(invocation, ModuleRun) else False
    if isinstance(invocation, ModuleRun):
        host.call_count += 1
    return Outcome(
        stdout=BOOTSTRAP_TOO_OLD.encode() + b"\r\n",
        stderr=b"",
        rc=1,
        kind=_kind(invocation),
        module=module,
        args=args,
        no_log=no_log,
        failed=True,
    )


def _kind(invocation: Invocation) -> str:
    """Return the journal's name for an invocation type, e.g. ``put_file``."""
    names = {
        ModuleRun: "module",
        PutFile: "put_file",
        FetchFile: "fetch_file",
        MakeTempDir: "mkdtemp",
        ExpandUser: "expand_user",
        RemovePath: "remove",
        PathExists: "exists",
        BootTimeQuery: "reboot_boot_time",
        RebootCommand: "reboot_shutdown",
        AbortShutdown: "reboot_abort",
        RebootTest: "reboot_test",
        Script: "raw",
    }
    return names.get(type(invocation), "unknown")


def _from_tuple(answer: tuple[bytes, bytes, int], kind: str) -> Outcome:
    """Wrap a (stdout, stderr, rc) answer of a non-module command."""
    stdout, stderr, rc = answer
    return Outcome(stdout, stderr, rc, kind, failed=rc != 0)


# Referenced so that importing them (which registers their modules) is not flagged as unused.
_FAMILIES = (command, files, hostname, package, ping, probe, reboot, service)
