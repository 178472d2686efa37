"""The listeners of the simulated fleet: every host on its own loopback address, one process.

Each host listens on ``<address>:5985`` (``5986`` with TLS). One acceptor thread watches all
listening sockets with a selector, so thousands of hosts cost file descriptors, not threads;
each accepted connection then gets a thread of its own for its life, because NTLM
authenticates the TCP connection and the client keeps it alive across requests.

Every host's network card also listens for its Wake-on-LAN magic packet (UDP, see
``agentroll.sim.wol``); a PC that is switched off refuses connections until it has booted.

Connection faults come from ``Fleet.connection_policy``: ``refuse`` closes the host's listening
socket (the client sees "connection refused"), ``drop`` reads the request and hangs up without
answering, ``reject_credentials`` answers 401, ``slow_seconds`` delays command completion (see
``agentroll.sim.wsman``). Faults set while the fleet runs apply within ``policy_refresh``
seconds, or at once through ``FleetServer.refresh``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import queue
import selectors
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentroll.sim.auth import ENCRYPTED_CONTENT_TYPE, Accepted, AuthError, ConnectionAuth, NtlmUserStore
from agentroll.sim.tls import TlsIdentity, make_identity
from agentroll.sim.types import CommandResult, ConnectionPolicy
from agentroll.sim.wol import MagicPacketListener
from agentroll.sim.wsman import WinrsService, WsmanFault, fault_response, parse_request

log = logging.getLogger(__name__)

HTTP_PORT = 5985
HTTPS_PORT = 5986
WSMAN_PATH = "/wsman"
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
}


def connection_vars(*, transport: str, tls: bool, port: int, username: str, password: str) -> dict[str, Any]:
    """Return the Ansible connection variables for a simulated host."""
    return {
        "ansible_connection": "winrm",
        "ansible_winrm_transport": transport,
        "ansible_winrm_scheme": "https" if tls else "http",
        "ansible_port": port,
        "ansible_user": username,
        "ansible_password": password,
        "ansible_winrm_server_cert_validation": "ignore",
        # A simulated PC on loopback with a throw-away certificate and a password that opens nothing
        # else: Basic over HTTP and the unchecked certificate are accepted knowingly here.
        "agentroll_allow_insecure_transport": True,
    }


def host_name(address: str) -> str:
    """Return a default inventory name for a host address (``pc-0-17`` for ``127.x.0.17``)."""
    third, fourth = address.split(".")[2:4]
    return f"pc-{third}-{fourth}"


class ServedFleet(Protocol):
    """The part of ``agentroll.sim.fleet.Fleet`` the transport uses."""

    tls: bool
    #: None: the hosts' network cards do not listen for magic packets.
    wake_on_lan_port: int | None

    def addresses(self) -> list[str]:
        """Return every host address."""
        ...

    def magic_packet(self, address: str, mac: str) -> str | None:
        """Hand a magic packet for ``mac`` to the network card at ``address``."""
        ...

    def credentials_for(self, address: str) -> tuple[str, str]:
        """Return the (username, password) the host accepts."""
        ...

    def connection_policy(self, address: str) -> ConnectionPolicy:
        """Return how connections to the host must be treated right now."""
        ...

    def execute(self, address: str, command_line: str, stdin: bytes) -> CommandResult:
        """Run one WinRS command on the host."""
        ...


class HttpError(Exception):
    """A request that breaks HTTP/1.1 framing; answered with ``status`` and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class HttpRequest:
    """One parsed HTTP request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


@dataclass
class HttpResponse:
    """One HTTP response to write."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False

    def encode(self) -> bytes:
        """Serialize the status line, headers and body."""
        reason = REASONS.get(self.status, "Unknown")
        lines = [f"HTTP/1.1 {self.status} {reason}", "Server: Microsoft-HTTPAPI/2.0"]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        lines.append(f"Content-Length: {len(self.body)}")
        if self.close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


class HttpConnection:
    """Reads HTTP/1.1 requests off a socket one at a time (keep-alive, Content-Length bodies)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    def _fill(self) -> bool:
        """Read more bytes into the buffer; False when the peer has closed the connection."""
        chunk = self._sock.recv(256 * 1024)
        if not chunk:
            return False
        self._buffer += chunk
        return True

    def read_request(self) -> HttpRequest | None:
        """Return the next request, or None if the peer closed the connection between requests."""
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise HttpError(400, "request header too large")
            if not self._fill():
                if self._buffer:
                    raise HttpError(400, "connection closed inside a request header")
                return None
        head = bytes(self._buffer[:end]).decode("latin-1")
        del self._buffer[: end + 4]
        request_line, *header_lines = head.split("\r\n")
        method, path, version = _split_request_line(request_line)
        headers: dict[str, str] = {}
        for line in header_lines:
            name, colon, value = line.partition(":")
            if not colon:
                raise HttpError(400, f"malformed header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        body = self._read_body(headers)
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        return HttpRequest(method, path, headers, body, keep_alive)

    def _read_body(self, headers: dict[str, str]) -> bytes:
        """Read a Content-Length body (clients of WinRM never send chunked requests)."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise HttpError(411, "chunked request bodies are not supported")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as exc:
            raise HttpError(400, "Content-Length is not a number") from exc
        if length < 0 or length > MAX_BODY_BYTES:
            raise HttpError(413, "request body too large")
        while len(self._buffer) < length:
            if not self._fill():
                raise HttpError(400, "connection closed inside a request body")
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return body

    def send(self, response: HttpResponse) -> None:
        """Write a response."""
        self._sock.sendall(response.encode())


def _reset(sock: socket.socket) -> None:
    """Close a connection with a TCP reset instead of an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def _split_request_line(line: str) -> tuple[str, str, str]:
    """Split ``METHOD PATH VERSION``."""
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, f"malformed request line {line!r}")
    return parts[0], parts[1], parts[2]


@dataclass
class ServerStats:
    """Counters for the control API and the scale benchmark."""

    connections: int = 0
    requests: int = 0
    dropped: int = 0
    live_connections: int = 0
    peak_connections: int = 0
    encrypted_requests: int = 0
    #: HTTP 401 answers: NTLM challenges as well as rejected credentials.
    unauthorized: int = 0
    #: WS-Man faults answered, by fault code (as a string, for JSON).
    faults: dict[str, int] = field(default_factory=dict)


class FleetServer:
    """Serves WS-Management for every host of a fleet from one process."""

    def __init__(
        self,
        fleet: ServedFleet,
        *,
        tls: bool | None = None,
        port: int | None = None,
        idle_timeout: float = 300.0,
        policy_refresh: float = 0.25,
    ) -> None:
        self.fleet = fleet
        self.tls = fleet.tls if tls is None else tls
        self.port = port if port is not None else (HTTPS_PORT if self.tls else HTTP_PORT)
        self.scheme = "https" if self.tls else "http"
        self.stats = ServerStats()
        self._idle_timeout = idle_timeout
        self._policy_refresh = policy_refresh
        self._service = WinrsService(fleet)
        self._users = NtlmUserStore()
        self._identity: TlsIdentity | None = make_identity(fleet.addresses()) if self.tls else None
        self._selector = selectors.DefaultSelector()
        self._listeners: dict[str, socket.socket] = {}
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._requests: queue.Queue[tuple[str | None, threading.Event]] = queue.Queue()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._stopping = threading.Event()
        self._acceptor: threading.Thread | None = None
        self._wake_on_lan = MagicPacketListener(fleet)

    @property
    def ca_certificate_pem(self) -> bytes | None:
        """The PEM of the authority that issued the listeners' certificate (None over HTTP)."""
        return self._identity.ca_certificate_pem if self._identity else None

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> FleetServer:
        """Open the listeners of every host not refusing connections and start accepting."""
        self._wake_reader.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        try:
            for address in self.fleet.addresses():
                if not self.fleet.connection_policy(address).refuse:
                    self._open_listener(address)
            self._wake_on_lan.start()
        except BaseException:
            self._close_listeners()
            self._users.close()
            raise
        self._acceptor = threading.Thread(target=self._accept_loop, name="sim-acceptor", daemon=True)
        self._acceptor.start()
        log.info("serving %d hosts over %s on port %d", len(self.fleet.addresses()), self.scheme, self.port)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every listener and live connection, and wait for the threads."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._wake_on_lan.stop()
        self._wake()
        if self._acceptor is not None:
            self._acceptor.join(timeout)
        with self._lock:
            live = list(self._live)
        for sock in live:
            # shutdown() wakes a thread blocked in recv(); close() alone would not.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        while self.stats.live_connections and time.monotonic() < deadline:
            time.sleep(0.02)
        self._users.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def __enter__(self) -> FleetServer:
        """Start serving for the duration of a ``with`` block."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop serving."""
        self.stop()

    def stats_snapshot(self) -> dict[str, Any]:
        """Return a consistent copy of the counters (they change under other threads)."""
        with self._lock:
            snapshot = dataclasses.asdict(self.stats)
        return snapshot

    def endpoint(self, address: str) -> str:
        """Return the WinRM URL of the host at ``address``."""
        return f"{self.scheme}://{address}:{self.port}{WSMAN_PATH}"

    def listening(self, address: str) -> bool:
        """Whether the host at ``address`` currently accepts connections."""
        with self._lock:
            return address in self._listeners

    def refresh(self, address: str | None = None, timeout: float = 5.0) -> None:
        """Apply changed faults to the listeners now (of one host, or all) and wait until done."""
        done = threading.Event()
        self._requests.put((address, done))
        self._wake()
        if not done.wait(timeout):
            raise TimeoutError("the acceptor did not apply the listener change in time")

    # --- the acceptor ----------------------------------------------------------------------

    def _wake(self) -> None:
        """Interrupt the acceptor's select()."""
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")

    def _open_listener(self, address: str) -> None:
        """Bind and register the listening socket of one host."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((address, self.port))
        except OSError as exc:
            listener.close()
            if exc.errno == errno.EADDRINUSE:
                raise OSError(exc.errno, f"{address}:{self.port} is already in use (another fleet?)") from exc
            raise
        listener.listen(128)
        listener.setblocking(False)
        with self._lock:
            self._listeners[address] = listener
        self._selector.register(listener, selectors.EVENT_READ, address)

    def _close_listener(self, address: str) -> None:
        """Close one host's listening socket, so that connecting to it is refused."""
        with self._lock:
            listener = self._listeners.pop(address, None)
        if listener is not None:
            self._selector.unregister(listener)
            listener.close()

    def _close_listeners(self) -> None:
        """Close every listening socket."""
        with self._lock:
            addresses = list(self._listeners)
        for address in addresses:
            self._close_listener(address)

    def _sync_listeners(self, addresses: list[str]) -> None:
        """Open or close listeners so they match each host's ``refuse`` policy."""
        for address in addresses:
            refuse = self.fleet.connection_policy(address).refuse
            open_now = address in self._listeners
            if refuse and open_now:
                self._close_listener(address)
            elif not refuse and not open_now:
                try:
                    self._open_listener(address)
                except OSError:
                    log.exception("cannot reopen the listener of %s", address)

    def _accept_loop(self) -> None:
        """Accept connections on every listener until stopped; apply fault changes between."""
        next_sync = time.monotonic() + self._policy_refresh
        try:
            while not self._stopping.is_set():
                for key, _ in self._selector.select(timeout=self._policy_refresh):
                    if key.data is None:
                        self._drain_wakeups()
                    else:
                        self._accept_all(key.fileobj, key.data)  # type: ignore[arg-type]
                self._apply_refresh_requests()
                if time.monotonic() >= next_sync:
                    self._sync_listeners(self.fleet.addresses())
                    next_sync = time.monotonic() + self._policy_refresh
        except Exception:
            log.exception("the acceptor failed")
        finally:
            self._close_listeners()
            self._selector.close()

    def _drain_wakeups(self) -> None:
        """Empty the wake-up socket."""
        try:
            while self._wake_reader.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _apply_refresh_requests(self) -> None:
        """Serve pending ``refresh`` calls."""
        while True:
            try:
                address, done = self._requests.get_nowait()
            except queue.Empty:
                return
            try:
                self._sync_listeners([address] if address else self.fleet.addresses())
            finally:
                done.set()

    def _accept_all(self, listener: socket.socket, address: str) -> None:
        """Accept every pending connection of one listener and give each its own thread."""
        while listener.fileno() >= 0:  # closed by a sync earlier in this select() round
            try:
                sock, peer = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                log.exception("accept failed on %s", address)
                return
            if self.fleet.connection_policy(address).refuse:
                # The host went down since the last listener sync (a reboot, say): answer like
                # a machine that is gone and close its door now rather than at the next sync.
                _reset(sock)
                self._sync_listeners([address])
                return
            sock.setblocking(True)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._live.add(sock)
                self.stats.connections += 1
                self.stats.live_connections += 1
                self.stats.peak_connections = max(self.stats.peak_connections, self.stats.live_connections)
            thread = threading.Thread(
                target=self._serve_connection,
                args=(sock, address, peer[0]),
                name=f"sim-{address}",
                daemon=True,
            )
            thread.start()

    # --- one connection --------------------------------------------------------------------

    def _serve_connection(self, sock: socket.socket, address: str, client_ip: str) -> None:
        """Serve requests on one connection until the client closes it or the fleet stops."""
        raw = sock
        try:
            sock.settimeout(self._idle_timeout)
            if self._identity is not None:
                sock = self._identity.context.wrap_socket(sock, server_side=True)
            self._serve_requests(sock, address, client_ip)
        except (OSError, ssl.SSLError) as exc:
            log.debug("connection to %s ended: %s", address, exc)
        except Exception:
            log.exception("connection to %s failed", address)
        finally:
            with self._lock:
                self._live.discard(raw)
                self.stats.live_connections -= 1
            with contextlib.suppress(OSError):
                sock.close()

    def _serve_requests(self, sock: socket.socket, address: str, client_ip: str) -> None:
        """The keep-alive loop of one connection."""
        connection = HttpConnection(sock)
        auth = ConnectionAuth(
            credentials=lambda: self.fleet.credentials_for(address),
            reject=lambda: self.fleet.connection_policy(address).reject_credentials,
            users=self._users,
            certificate_hash=self._identity.end_point_hash if self._identity else None,
        )
        while not self._stopping.is_set():
            try:
                request = connection.read_request()
            except HttpError as exc:
                connection.send(HttpResponse(exc.status, close=True))
                return
            if request is None:
                return
            policy = self.fleet.connection_policy(address)
            if policy.refuse:
                # A host going down resets the connections it had.
                _reset(sock)
                return
            if policy.drop:
                with self._lock:
                    self.stats.dropped += 1
                return
            with self._lock:
                self.stats.requests += 1
            response = self._answer(address, client_ip, request, auth)
            response.close = response.close or not request.keep_alive
            connection.send(response)
            if response.close:
                return

    def _answer(
        self, address: str, client_ip: str, request: HttpRequest, auth: ConnectionAuth
    ) -> HttpResponse:
        """Authenticate a request and serve it."""
        if request.path.split("?", 1)[0].lower() != WSMAN_PATH:
            return HttpResponse(404)
        if request.method != "POST":
            return HttpResponse(405, headers=[("Allow", "POST")])
        try:
            decision = auth.check(request.headers, request.body)
        except AuthError as exc:
            log.info("host %s: %s", address, exc)
            return HttpResponse(400, close=True)
        if not isinstance(decision, Accepted):
            if decision.status == 401:
                with self._lock:
                    self.stats.unauthorized += 1
            return HttpResponse(decision.status, headers=decision.headers)
        if not decision.body:
            # The client's empty POST that sets up the NTLM session for message encryption.
            return HttpResponse(200)
        status, body = self._serve_soap(address, client_ip, decision.body)
        if decision.encrypt:
            with self._lock:
                self.stats.encrypted_requests += 1
            return HttpResponse(status, auth.wrap(body), [("Content-Type", ENCRYPTED_CONTENT_TYPE)])
        return HttpResponse(status, body, [("Content-Type", SOAP_CONTENT_TYPE)])

    def _serve_soap(self, address: str, client_ip: str, body: bytes) -> tuple[int, bytes]:
        """Run one WS-Man request through the WinRS service; faults become HTTP 500."""
        relates_to = None
        try:
            request = parse_request(body)
            relates_to = request.message_id
            answer = self._service.handle(address, request, self.endpoint(address), client_ip)
            log.debug("%s %s: 200", address, request.action.rsplit("/", 1)[-1])
            return 200, answer
        except WsmanFault as fault:
            log.debug("%s fault %d: %s", address, fault.code, fault.reason)
            with self._lock:
                self.stats.faults[str(fault.code)] = self.stats.faults.get(str(fault.code), 0) + 1
            return 500, fault_response(fault, relates_to, address)
