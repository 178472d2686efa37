"""The control API of a running fleet: a small JSON-over-HTTP service on 127.0.0.1, and its client.

Routes (all answers are JSON; errors are ``{"error": "..."}`` with 400 or 404):

``GET  /health``                        status, pid, host count, scheme, port, counters
``GET  /hosts``                         every host: address, listening, connection policy
``GET  /hosts/<address>/journal``       the host's journal
``POST /hosts/<address>/faults``        body ``{"fault": value, ...}``: change faults now
``POST /hosts/<address>/power``         body ``{"on": true|false}``: switch the PC on (it boots) or off
``POST /shutdown``                      stop the fleet (the foreground process then exits)

A background fleet (``agentroll sim start``) records its pid and control URL in a runtime file
so that the other ``agentroll sim`` commands can find it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from agentroll.sim.server import FleetServer

RUNTIME_ENV = "AGENTROLL_SIM_RUNTIME"


class ControlledFleet(Protocol):
    """The part of ``agentroll.sim.fleet.Fleet`` the control API uses."""

    def addresses(self) -> list[str]:
        """Return every host address."""
        ...

    def set_faults(self, address: str, **faults: Any) -> None:
        """Change a host's faults."""
        ...

    def journal(self, address: str) -> list[dict[str, Any]]:
        """Return a host's journal."""
        ...

    def set_power(self, address: str, on: bool) -> bool:
        """Switch a host on or off."""
        ...


class ControlError(Exception):
    """The control API refused a request or could not be reached."""


def _json_bytes(value: Any) -> bytes:
    """Encode an answer; journal values that are not JSON types are written as strings."""
    return json.dumps(value, default=str, ensure_ascii=False).encode("utf-8")


class ControlServer:
    """Serves the control API of one fleet in a background thread."""

    def __init__(
        self,
        fleet: ControlledFleet,
        server: FleetServer,
        *,
        port: int = 0,
        on_shutdown: Callable[[], None] | None = None,
    ) -> None:
        self.fleet = fleet
        self.server = server
        self._on_shutdown = on_shutdown
        self._known = set(fleet.addresses())
        self._http = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._http.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL of the API."""
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ControlServer:
        """Start serving."""
        # A short poll interval keeps shutdown (and so SIGTERM handling) quick.
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.1}, name="sim-control", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._http.shutdown()
        self._http.server_close()

    # --- routes ----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Return liveness and counters."""
        return {
            "status": "ok",
            "pid": os.getpid(),
            "hosts": len(self._known),
            "scheme": self.server.scheme,
            "port": self.server.port,
            "stats": self.server.stats_snapshot(),
        }

    def hosts(self) -> list[dict[str, Any]]:
        """Return every host with its listener state and connection policy."""
        return [
            {
                "address": address,
                "endpoint": self.server.endpoint(address),
                "listening": self.server.listening(address),
                "policy": dataclasses.asdict(self.server.fleet.connection_policy(address)),
            }
            for address in self.fleet.addresses()
        ]

    def set_faults(self, address: str, faults: dict[str, Any]) -> dict[str, Any]:
        """Change a host's faults and apply the connection ones at once."""
        self._require_host(address)
        self.fleet.set_faults(address, **faults)
        self.server.refresh(address)
        return {
            "address": address,
            "listening": self.server.listening(address),
            "policy": dataclasses.asdict(self.server.fleet.connection_policy(address)),
        }

    def journal(self, address: str) -> list[dict[str, Any]]:
        """Return a host's journal."""
        self._require_host(address)
        return self.fleet.journal(address)

    def set_power(self, address: str, body: dict[str, Any]) -> dict[str, Any]:
        """Switch a host on (it answers once booted) or off (its listener closes at once)."""
        self._require_host(address)
        on = body.get("on")
        if not isinstance(on, bool) or set(body) != {"on"}:
            raise ValueError('the power request must be {"on": true} or {"on": false}')
        changed = self.fleet.set_power(address, on)
        self.server.refresh(address)
        return {"address": address, "changed": changed, "listening": self.server.listening(address)}

    def shutdown(self) -> dict[str, Any]:
        """Ask the owner of this fleet to stop it."""
        if self._on_shutdown is None:
            raise ValueError("this fleet cannot be stopped through the control API")
        threading.Thread(target=self._on_shutdown, name="sim-control-shutdown", daemon=True).start()
        return {"status": "stopping"}

    def _require_host(self, address: str) -> None:
        """Raise KeyError for an address the fleet does not have."""
        if address not in self._known:
            raise KeyError(f"no simulated host at {address}")

    def route(self, method: str, path: str, body: bytes) -> Any:
        """Dispatch one API call; KeyError means 404, ValueError and TypeError mean 400."""
        parts = [part for part in path.split("?", 1)[0].split("/") if part]
        if method == "GET" and parts == ["health"]:
            return self.health()
        if method == "GET" and parts == ["hosts"]:
            return self.hosts()
        if method == "GET" and len(parts) == 3 and parts[0] == "hosts" and parts[2] == "journal":
            return self.journal(parts[1])
        if method == "POST" and len(parts) == 3 and parts[0] == "hosts" and parts[2] == "faults":
            faults = json.loads(body or b"{}")
            if not isinstance(faults, dict):
                raise ValueError("the faults must be a JSON object")
            return self.set_faults(parts[1], faults)
        if method == "POST" and len(parts) == 3 and parts[0] == "hosts" and parts[2] == "power":
            power = json.loads(body or b"{}")
            if not isinstance(power, dict):
                raise ValueError('the power request must be {"on": true} or {"on": false}')
            return self.set_power(parts[1], power)
        if method == "POST" and parts == ["shutdown"]:
            return self.shutdown()
        raise KeyError(f"no route {method} {path}")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """Build the request handler bound to this control server."""
        control = self

        class Handler(BaseHTTPRequestHandler):
            """Turns HTTP requests into ``ControlServer.route`` calls."""

            def do_GET(self) -> None:
                """Serve a read."""
                self._dispatch("GET")

            def do_POST(self) -> None:
                """Serve a change."""
                self._dispatch("POST")

            def _dispatch(self, method: str) -> None:
                """Route the request and write its JSON answer."""
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, answer = 200, control.route(method, self.path, body)
                except KeyError as exc:
                    status, answer = 404, {"error": str(exc.args[0] if exc.args else exc)}
                except (ValueError, TypeError) as exc:
                    status, answer = 400, {"error": str(exc)}
                data = _json_bytes(answer)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet: the fleet's own log says what matters."""

        return Handler


class ControlClient:
    """Calls the control API of a running fleet."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        """Send one request and decode its JSON answer; API errors raise ControlError."""
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except (ValueError, AttributeError):
                message = exc.reason
            raise ControlError(str(message)) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ControlError(f"cannot reach the fleet's control API at {self.url}: {exc}") from exc

    def health(self) -> dict[str, Any]:
        """Return the fleet's health."""
        return self._call("GET", "/health")

    def hosts(self) -> list[dict[str, Any]]:
        """Return every host with its policy."""
        return self._call("GET", "/hosts")

    def set_faults(self, address: str, **faults: Any) -> dict[str, Any]:
        """Change a host's faults."""
        return self._call("POST", f"/hosts/{address}/faults", faults)

    def journal(self, address: str) -> list[dict[str, Any]]:
        """Return a host's journal."""
        return self._call("GET", f"/hosts/{address}/journal")

    def set_power(self, address: str, on: bool) -> dict[str, Any]:
        """Switch a host on or off."""
        return self._call("POST", f"/hosts/{address}/power", {"on": on})

    def shutdown(self) -> dict[str, Any]:
        """Ask the fleet to stop."""
        return self._call("POST", "/shutdown", {})


@dataclass
class RuntimeInfo:
    """What a running fleet publishes about itself."""

    pid: int
    control_url: str
    fleet_file: str
    scheme: str
    port: int
    hosts: int
    log_file: str | None = None


def default_runtime_path() -> Path:
    """Return the runtime file: ``$AGENTROLL_SIM_RUNTIME``, else ``.cache/agentroll-sim.json``."""
    configured = os.environ.get(RUNTIME_ENV)
    return Path(configured) if configured else Path.cwd() / ".cache" / "agentroll-sim.json"


def write_runtime(path: Path, info: RuntimeInfo) -> None:
    """Write the runtime file atomically (readers never see half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(dataclasses.asdict(info), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def read_runtime(path: Path) -> RuntimeInfo | None:
    """Return the runtime info at ``path``, or None if there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RuntimeInfo(**data)
    except (OSError, ValueError, TypeError):
        return None


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but not been reaped (a background fleet's parent is gone, and
    some init processes reap slowly)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may itself hold spaces.
    return stat.rpartition(")")[2].split()[:1] == ["Z"]
