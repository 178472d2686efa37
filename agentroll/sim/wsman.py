"""WS-Management and WinRS as a Windows host speaks them: SOAP parsing, answers, faults, shells.

pywinrm and Ansible's winrm connection plugin look for a few precise things in the answers (the
``ShellId`` selector inside ``ResourceCreated``, an element ending in ``CommandId``, base64
``Stream`` elements and exactly one ``CommandState .../Done`` carrying ``ExitCode``, and
``RelatesTo`` equal to the request's ``MessageID`` on Signal and Delete). The envelopes below
follow what Windows itself sends, so the unmodified clients cannot tell the difference.

The ``WinrsService`` keeps the shells and commands of every host and hands each finished
command to the fleet (``Fleet.execute``): that call is the seam between transport and hosts.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

from agentroll.sim.types import CommandResult, ConnectionPolicy

log = logging.getLogger(__name__)

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
NS_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"

ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACTION_COMMAND = f"{NS_SHELL}/Command"
ACTION_SEND = f"{NS_SHELL}/Send"
ACTION_RECEIVE = f"{NS_SHELL}/Receive"
ACTION_SIGNAL = f"{NS_SHELL}/Signal"
ACTION_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

STATE_DONE = f"{NS_SHELL}/CommandState/Done"
STATE_RUNNING = f"{NS_SHELL}/CommandState/Running"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
SHELL_RESOURCE_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"

#: Windows' fault code for "the operation did not finish within OperationTimeout"; clients
#: retry a Receive that fails with it, which is how a long-running command looks on the wire.
CODE_OPERATION_TIMEOUT = 2150858793
CODE_SHELL_NOT_FOUND = 2150858843
CODE_ACTION_NOT_SUPPORTED = 2150858783
CODE_SCHEMA_VALIDATION = 2150858817
CODE_INTERNAL_ERROR = 2147500037

#: Raw output bytes per Receive answer: base64 grows them by 4/3 and the envelope must stay
#: below the client's MaxEnvelopeSize (153,600 bytes by default).
RECEIVE_CHUNK_BYTES = 96 * 1024

#: A host keeps at most this many open shells; older ones are forgotten (clients that died
#: without deleting their shell would otherwise leak memory in a long-running fleet).
MAX_SHELLS_PER_HOST = 64

_DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")


class WsmanFault(Exception):
    """A WS-Management fault, answered with HTTP 500 and an ``s:Fault`` envelope."""

    def __init__(self, code: int, subcode: str, reason: str, *, sender: bool = True) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.sender = sender

    @classmethod
    def operation_timeout(cls) -> WsmanFault:
        """The fault Windows sends when a Receive finds no output within OperationTimeout."""
        return cls(
            CODE_OPERATION_TIMEOUT,
            "w:TimedOut",
            "The WS-Management service cannot complete the operation within the time specified "
            "in OperationTimeout.  ",
            sender=False,
        )

    @classmethod
    def shell_not_found(cls, shell_id: str) -> WsmanFault:
        """The fault for a request naming a shell this host does not have."""
        return cls(
            CODE_SHELL_NOT_FOUND,
            "w:InvalidSelectors",
            f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the "
            "shell was not found on the server. Possible causes are: the specified ShellId is "
            "incorrect or the shell no longer exists on the server. Provide the correct ShellId "
            "or create a new shell and retry the operation. ",
        )

    @classmethod
    def action_not_supported(cls, action: str) -> WsmanFault:
        """The fault for an action this service does not implement."""
        return cls(
            CODE_ACTION_NOT_SUPPORTED,
            "a:ActionNotSupported",
            f"The action is not supported by the service. Action: {action} ",
        )

    @classmethod
    def schema_validation(cls, detail: str) -> WsmanFault:
        """The fault for an envelope that cannot be understood."""
        return cls(
            CODE_SCHEMA_VALIDATION,
            "w:SchemaValidationError",
            f"The SOAP XML in the message does not match the corresponding XML schema definition. {detail}",
        )

    @classmethod
    def internal_error(cls, detail: str) -> WsmanFault:
        """The fault for a failure inside the host while it ran a command."""
        return cls(CODE_INTERNAL_ERROR, "w:InternalError", detail, sender=False)


@dataclass
class WsmanRequest:
    """The parts of a WS-Man request envelope a WinRS server acts on."""

    action: str
    message_id: str
    resource_uri: str
    shell_id: str | None
    operation_timeout: float
    options: dict[str, str]
    body: ET.Element


def _q(namespace: str, name: str) -> str:
    """Return the ElementTree name of ``name`` in ``namespace``."""
    return f"{{{namespace}}}{name}"


def parse_duration(text: str | None, default: float) -> float:
    """Return the seconds of an xs:duration like ``PT20S`` (only the H, M and S parts occur)."""
    if not text:
        return default
    match = _DURATION.match(text.strip())
    if not match:
        return default
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def parse_request(data: bytes) -> WsmanRequest:
    """Parse a WS-Man SOAP envelope, raising a schema fault for anything that is not one."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise WsmanFault.schema_validation(f"The XML is malformed: {exc}") from exc
    header = root.find(_q(NS_SOAP, "Header"))
    body = root.find(_q(NS_SOAP, "Body"))
    if root.tag != _q(NS_SOAP, "Envelope") or header is None or body is None:
        raise WsmanFault.schema_validation("The message is not a SOAP 1.2 envelope.")
    action = (header.findtext(_q(NS_ADDRESSING, "Action")) or "").strip()
    message_id = (header.findtext(_q(NS_ADDRESSING, "MessageID")) or "").strip()
    if not action or not message_id:
        raise WsmanFault.schema_validation("The Action or MessageID header is missing.")
    shell_id = None
    for selector in header.iter(_q(NS_WSMAN, "Selector")):
        if selector.get("Name") == "ShellId":
            shell_id = (selector.text or "").strip()
    options = {
        option.get("Name", ""): (option.text or "").strip() for option in header.iter(_q(NS_WSMAN, "Option"))
    }
    return WsmanRequest(
        action=action,
        message_id=message_id,
        resource_uri=(header.findtext(_q(NS_WSMAN, "ResourceURI")) or "").strip(),
        shell_id=shell_id,
        operation_timeout=parse_duration(header.findtext(_q(NS_WSMAN, "OperationTimeout")), 60.0),
        options=options,
        body=body,
    )


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    """Wrap an answer body in the envelope and addressing headers Windows uses."""
    return (
        '<s:Envelope xml:lang="en-US" '
        f'xmlns:s="{NS_SOAP}" xmlns:a="{NS_ADDRESSING}" '
        'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
        f'xmlns:w="{NS_WSMAN}" xmlns:rsp="{NS_SHELL}" '
        'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
        "<s:Header>"
        f"<a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>{ANONYMOUS}</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        "</s:Header>"
        f"<s:Body>{body}</s:Body>"
        "</s:Envelope>"
    ).encode()


def create_response(request: WsmanRequest, shell_id: str, endpoint: str, client_ip: str) -> bytes:
    """Answer a transfer Create: the shell id is a Selector inside ResourceCreated."""
    body = (
        "<x:ResourceCreated>"
        f"<a:Address>{escape(endpoint)}</a:Address>"
        "<a:ReferenceParameters>"
        f"<w:ResourceURI>{SHELL_RESOURCE_URI}</w:ResourceURI>"
        f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
        "</a:ReferenceParameters>"
        "</x:ResourceCreated>"
        f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId>"
        f"<rsp:ResourceUri>{SHELL_RESOURCE_URI}</rsp:ResourceUri>"
        f"<rsp:ClientIP>{escape(client_ip)}</rsp:ClientIP>"
        "<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>"
        "<rsp:InputStreams>stdin</rsp:InputStreams>"
        "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
        "</rsp:Shell>"
    )
    return _envelope(f"{ACTION_CREATE}Response", request.message_id, body)


def command_response(request: WsmanRequest, command_id: str) -> bytes:
    """Answer a shell Command with the new CommandId."""
    body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
    return _envelope(f"{ACTION_COMMAND}Response", request.message_id, body)


def send_response(request: WsmanRequest) -> bytes:
    """Answer a Send (stdin chunk)."""
    return _envelope(f"{ACTION_SEND}Response", request.message_id, "<rsp:SendResponse/>")


def receive_response(
    request: WsmanRequest, command_id: str, stdout: bytes, stderr: bytes, exit_code: int | None
) -> bytes:
    """Answer a Receive with output; ``exit_code`` None means the command is still running."""
    cid = quoteattr(command_id)
    parts = ["<rsp:ReceiveResponse>"]
    for name, data in (("stdout", stdout), ("stderr", stderr)):
        if data:
            encoded = base64.b64encode(data).decode()
            parts.append(f'<rsp:Stream Name="{name}" CommandId={cid}>{encoded}</rsp:Stream>')
    if exit_code is None:
        parts.append(f'<rsp:CommandState CommandId={cid} State="{STATE_RUNNING}"/>')
    else:
        parts.append(f'<rsp:Stream Name="stdout" CommandId={cid} End="true"/>')
        parts.append(f'<rsp:Stream Name="stderr" CommandId={cid} End="true"/>')
        parts.append(
            f'<rsp:CommandState CommandId={cid} State="{STATE_DONE}">'
            f"<rsp:ExitCode>{exit_code}</rsp:ExitCode></rsp:CommandState>"
        )
    parts.append("</rsp:ReceiveResponse>")
    return _envelope(f"{ACTION_RECEIVE}Response", request.message_id, "".join(parts))


def signal_response(request: WsmanRequest) -> bytes:
    """Answer a Signal; the client asserts that RelatesTo is its MessageID."""
    return _envelope(f"{ACTION_SIGNAL}Response", request.message_id, "<rsp:SignalResponse/>")


def delete_response(request: WsmanRequest) -> bytes:
    """Answer a transfer Delete (shell closed); the client asserts RelatesTo as for Signal."""
    return _envelope(f"{ACTION_DELETE}Response", request.message_id, "")


def fault_response(fault: WsmanFault, relates_to: str | None, machine: str) -> bytes:
    """Build the ``s:Fault`` envelope Windows sends with HTTP 500."""
    reason = escape(fault.reason)
    body = (
        "<s:Fault>"
        f"<s:Code><s:Value>{'s:Sender' if fault.sender else 's:Receiver'}</s:Value>"
        f"<s:Subcode><s:Value>{escape(fault.subcode)}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{reason}</s:Text></s:Reason>'
        "<s:Detail>"
        '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        f"Code={quoteattr(str(fault.code))} Machine={quoteattr(machine)}>"
        f"<f:Message>{reason}</f:Message></f:WSManFault>"
        "</s:Detail>"
        "</s:Fault>"
    )
    return _envelope(ACTION_FAULT, relates_to or f"uuid:{uuid.uuid4()}", body)


class FleetLike(Protocol):
    """What the WinRS service needs from the fleet (``agentroll.sim.fleet.Fleet``)."""

    def connection_policy(self, address: str) -> ConnectionPolicy:
        """Return how connections to ``address`` must be treated right now."""
        ...

    def execute(self, address: str, command_line: str, stdin: bytes) -> CommandResult:
        """Run one WinRS command on the host at ``address``."""
        ...


@dataclass
class Command:
    """One WinRS command: its stdin as received, and its output once the host has run it."""

    command_id: str
    command_line: str
    stdin: list[bytes] = field(default_factory=list)
    stdin_closed: bool = False
    ready_at: float | None = None
    result: CommandResult | None = None
    stdout_sent: int = 0
    stderr_sent: int = 0
    #: Two Receives racing on one command (a client retrying on a new connection) must not
    #: run it twice.
    run_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Shell:
    """One WinRS shell and its commands."""

    shell_id: str
    codepage: str
    commands: dict[str, Command] = field(default_factory=dict)


class WinrsService:
    """The WinRS endpoint of every host: shells, commands and their stdin/stdout plumbing.

    Shells belong to a host, not to a TCP connection, as on Windows: a client may come back on
    a new connection with the same ShellId. One lock guards the tables; commands run outside it
    so that hosts never wait for each other.
    """

    def __init__(self, fleet: FleetLike, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._fleet = fleet
        self._shells: dict[str, OrderedDict[str, Shell]] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic

    def handle(self, address: str, request: WsmanRequest, endpoint: str, client_ip: str) -> bytes:
        """Serve one WS-Man request for the host at ``address``; raise ``WsmanFault`` to refuse it."""
        action = request.action
        if action == ACTION_CREATE:
            return create_response(request, self._create_shell(address, request), endpoint, client_ip)
        if action == ACTION_DELETE:
            self._delete_shell(address, self._require_shell_id(request))
            return delete_response(request)
        if action == ACTION_COMMAND:
            return command_response(request, self._start_command(address, request))
        if action == ACTION_SEND:
            self._receive_stdin(address, request)
            return send_response(request)
        if action == ACTION_RECEIVE:
            return self._receive_output(address, request)
        if action == ACTION_SIGNAL:
            self._signal(address, request)
            return signal_response(request)
        raise WsmanFault.action_not_supported(action)

    def open_shell_count(self, address: str) -> int:
        """Return how many shells are open on the host at ``address``."""
        with self._lock:
            return len(self._shells.get(address, ()))

    def _require_shell_id(self, request: WsmanRequest) -> str:
        """Return the request's ShellId selector, which every action but Create needs."""
        if not request.shell_id:
            raise WsmanFault.schema_validation("The ShellId selector is missing.")
        return request.shell_id

    def _shell(self, address: str, request: WsmanRequest) -> Shell:
        """Return the shell the request names (caller holds the lock)."""
        shell_id = self._require_shell_id(request)
        shell = self._shells.get(address, OrderedDict()).get(shell_id)
        if shell is None:
            raise WsmanFault.shell_not_found(shell_id)
        return shell

    def _command(self, address: str, request: WsmanRequest, command_id: str | None) -> Command:
        """Return the command of the request's shell named ``command_id`` (caller holds the lock)."""
        shell = self._shell(address, request)
        command = shell.commands.get(command_id or "")
        if command is None:
            raise WsmanFault(
                CODE_SHELL_NOT_FOUND,
                "w:InvalidParameter",
                f"The command with CommandId {command_id} was not found in shell {shell.shell_id}. ",
            )
        return command

    def _create_shell(self, address: str, request: WsmanRequest) -> str:
        """Open a shell and return its id."""
        shell = Shell(str(uuid.uuid4()).upper(), request.options.get("WINRS_CODEPAGE", "437"))
        with self._lock:
            shells = self._shells.setdefault(address, OrderedDict())
            shells[shell.shell_id] = shell
            while len(shells) > MAX_SHELLS_PER_HOST:
                shells.popitem(last=False)
        return shell.shell_id

    def _delete_shell(self, address: str, shell_id: str) -> None:
        """Close a shell and forget its commands."""
        with self._lock:
            if self._shells.get(address, OrderedDict()).pop(shell_id, None) is None:
                raise WsmanFault.shell_not_found(shell_id)

    def _start_command(self, address: str, request: WsmanRequest) -> str:
        """Register a command; it runs when its output is first asked for."""
        command_line = request.body.find(f"{_q(NS_SHELL, 'CommandLine')}")
        if command_line is None:
            raise WsmanFault.schema_validation("The CommandLine element is missing.")
        executable = (command_line.findtext(_q(NS_SHELL, "Command")) or "").strip()
        arguments = (command_line.findtext(_q(NS_SHELL, "Arguments")) or "").strip()
        command = Command(str(uuid.uuid4()).upper(), f"{executable} {arguments}".strip())
        with self._lock:
            self._shell(address, request).commands[command.command_id] = command
        return command.command_id

    def _receive_stdin(self, address: str, request: WsmanRequest) -> None:
        """Append a Send's stdin chunk to its command."""
        stream = request.body.find(f"{_q(NS_SHELL, 'Send')}/{_q(NS_SHELL, 'Stream')}")
        if stream is None:
            raise WsmanFault.schema_validation("The Send/Stream element is missing.")
        chunk = base64.b64decode(stream.text or "")
        with self._lock:
            command = self._command(address, request, stream.get("CommandId"))
            if command.stdin_closed:
                raise WsmanFault(170, "w:InternalError", "The requested resource is in use. ", sender=False)
            command.stdin.append(chunk)
            command.stdin_closed = stream.get("End", "false").lower() == "true"

    def _signal(self, address: str, request: WsmanRequest) -> None:
        """Terminate a command (clients always send ``terminate`` after reading the output)."""
        signal = request.body.find(_q(NS_SHELL, "Signal"))
        if signal is None:
            raise WsmanFault.schema_validation("The Signal element is missing.")
        with self._lock:
            shell = self._shell(address, request)
            shell.commands.pop(signal.get("CommandId", ""), None)

    def _receive_output(self, address: str, request: WsmanRequest) -> bytes:
        """Answer a Receive: run the command if needed, then send the next slice of its output.

        A host with ``slow_seconds`` finishes its commands that long after the first Receive;
        until then each Receive waits at most the client's OperationTimeout and answers with the
        operation-timeout fault, which the client silently retries, exactly as with a slow PC.
        """
        stream = request.body.find(f"{_q(NS_SHELL, 'Receive')}/{_q(NS_SHELL, 'DesiredStream')}")
        if stream is None:
            raise WsmanFault.schema_validation("The Receive/DesiredStream element is missing.")
        command_id = stream.get("CommandId")
        # Asked outside the service lock: the fleet takes the host's own lock to answer.
        slow = self._fleet.connection_policy(address).slow_seconds
        with self._lock:
            command = self._command(address, request, command_id)
            if command.ready_at is None:
                command.ready_at = self._monotonic() + max(0.0, slow)
            ready_at = command.ready_at
        self._wait_until_ready(ready_at, request.operation_timeout)
        result = self._run_once(address, command)
        return self._next_output(request, command, result)

    def _wait_until_ready(self, ready_at: float, operation_timeout: float) -> None:
        """Sleep until ``ready_at`` or raise the operation-timeout fault if that is too far."""
        remaining = ready_at - self._monotonic()
        if remaining <= 0:
            return
        # Windows answers a little before the client's deadline, never after it.
        budget = max(0.05, operation_timeout - 0.5) if operation_timeout > 1 else operation_timeout * 0.8
        if remaining > budget:
            time.sleep(budget)
            raise WsmanFault.operation_timeout()
        time.sleep(remaining)

    def _run_once(self, address: str, command: Command) -> CommandResult:
        """Hand the command to the fleet the first time its output is needed."""
        with command.run_lock:
            if command.result is not None:
                return command.result
            stdin = b"".join(command.stdin)
            try:
                result = self._fleet.execute(address, command.command_line, stdin)
            except Exception as exc:
                log.exception("host %s failed to execute a command", address)
                detail = f"The simulated host failed: {type(exc).__name__}: {exc}"
                raise WsmanFault.internal_error(detail) from exc
            command.result = result
            return result

    def _next_output(self, request: WsmanRequest, command: Command, result: CommandResult) -> bytes:
        """Answer with the next output slice; the last slice carries the exit code."""
        budget = RECEIVE_CHUNK_BYTES
        stdout = result.stdout[command.stdout_sent : command.stdout_sent + budget]
        budget -= len(stdout)
        stderr = result.stderr[command.stderr_sent : command.stderr_sent + budget]
        command.stdout_sent += len(stdout)
        command.stderr_sent += len(stderr)
        finished = command.stdout_sent >= len(result.stdout) and command.stderr_sent >= len(result.stderr)
        exit_code = result.rc if finished else None
        return receive_response(request, command.command_id, stdout, stderr, exit_code)
