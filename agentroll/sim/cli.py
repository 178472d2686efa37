"""``agentroll sim …``: run the simulated fleet and drive it from the command line.

``up`` runs a fleet in the foreground until SIGINT/SIGTERM; ``start`` runs ``up`` in the
background and returns once the fleet answers; ``stop``, ``fault``, ``power`` and ``journal`` find it
through its runtime file; ``inventory`` prints the Ansible connection variables for a fleet.
The main ``agentroll`` command calls ``register``; ``python -m agentroll.sim.cli`` works alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from agentroll.sim.control import (
    ControlClient,
    ControlError,
    ControlServer,
    RuntimeInfo,
    default_runtime_path,
    process_alive,
    read_runtime,
    write_runtime,
)
from agentroll.sim.fleet import Fleet
from agentroll.sim.server import FleetServer, connection_vars, host_name


class SimCommandError(ValueError):
    """A user error of an ``agentroll sim`` command (reported in one line, exit status 2)."""


# --- parser ---------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add the ``sim`` command and its sub-commands to the main CLI's subparsers."""
    sim = subparsers.add_parser("sim", help="run and drive the simulated Windows fleet")
    actions = sim.add_subparsers(dest="sim_command", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="run a fleet in the foreground until Ctrl-C or SIGTERM")
    _add_fleet_options(up)
    up.set_defaults(func=command_up)

    start = actions.add_parser("start", help="run a fleet in the background; prints its control URL")
    _add_fleet_options(start)
    start.add_argument("--timeout", type=float, default=60.0, help="seconds to wait until it answers")
    start.set_defaults(func=command_start)

    stop = actions.add_parser("stop", help="stop the background fleet")
    _add_runtime_option(stop)
    stop.add_argument("--timeout", type=float, default=20.0, help="seconds to wait until it exits")
    stop.set_defaults(func=command_stop)

    fault = actions.add_parser("fault", help="change a running host's faults (key=value ...)")
    _add_runtime_option(fault)
    fault.add_argument("address", help="the host's address")
    fault.add_argument("faults", nargs="+", metavar="KEY=VALUE", help="e.g. refuse_connections=true")
    fault.set_defaults(func=command_fault)

    power = actions.add_parser("power", help="switch a running host on (it boots) or off")
    _add_runtime_option(power)
    power.add_argument("address", help="the host's address")
    power.add_argument("state", choices=("on", "off"), help="on or off")
    power.set_defaults(func=command_power)

    journal = actions.add_parser("journal", help="print a running host's journal (JSON lines)")
    _add_runtime_option(journal)
    journal.add_argument("address", help="the host's address")
    journal.set_defaults(func=command_journal)

    inventory = actions.add_parser("inventory", help="print the Ansible inventory (YAML) reaching a fleet")
    inventory.add_argument("fleet", type=Path, help="fleet file (YAML)")
    inventory.add_argument(
        "--transport",
        choices=("basic", "ntlm"),
        default="ntlm",
        help="WinRM authentication (default: ntlm, with message encryption over http)",
    )
    inventory.add_argument(
        "--names",
        choices=("address", "computer"),
        default="address",
        help="inventory host names: from the address (pc-1-7) or the computer name",
    )
    inventory.add_argument("-o", "--output", type=Path, default=None, help="write here instead of stdout")
    inventory.set_defaults(func=command_inventory)


def _add_runtime_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--runtime-file``, where a running fleet publishes its pid and control URL."""
    parser.add_argument(
        "--runtime-file",
        type=Path,
        default=None,
        help="runtime file (default: $AGENTROLL_SIM_RUNTIME or ./.cache/agentroll-sim.json)",
    )


def _add_fleet_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``up`` and ``start``."""
    parser.add_argument("fleet", type=Path, help="fleet file (YAML)")
    _add_runtime_option(parser)
    parser.add_argument("--control-port", type=int, default=0, help="control API port (default: any free)")
    parser.add_argument("--log-level", default="WARNING", help="log level of the fleet (default: WARNING)")
    parser.add_argument(
        "--ca-cert",
        type=Path,
        default=None,
        help="write the certificate authority of the fleet's HTTPS listeners here (PEM), "
        "for ansible_winrm_ca_trust_path (a fleet with tls: true)",
    )


# --- commands -------------------------------------------------------------------------------


def command_up(args: argparse.Namespace) -> int:
    """Run the fleet in the foreground; SIGINT or SIGTERM stops it cleanly."""
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=args.log_level.upper(), format=log_format)
    runtime_path = args.runtime_file or default_runtime_path()
    fleet = Fleet.from_file(args.fleet)
    _check_ca_cert(args, fleet)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = FleetServer(fleet).start()
    if args.ca_cert is not None and server.ca_certificate_pem is not None:
        args.ca_cert.parent.mkdir(parents=True, exist_ok=True)
        args.ca_cert.write_bytes(server.ca_certificate_pem)
    control = ControlServer(fleet, server, port=args.control_port, on_shutdown=stop.set).start()
    try:
        info = RuntimeInfo(
            pid=os.getpid(),
            control_url=control.url,
            fleet_file=str(args.fleet.resolve()),
            scheme=server.scheme,
            port=server.port,
            hosts=len(fleet.addresses()),
            log_file=os.environ.get("AGENTROLL_SIM_LOG"),
        )
        write_runtime(runtime_path, info)
        first = fleet.addresses()[0]
        print(
            f"agentroll sim: {info.hosts} host(s) on {server.scheme} port {server.port} "
            f"(first {server.endpoint(first)}); control {control.url}",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        control.stop()
        server.stop()
        if (current := read_runtime(runtime_path)) is not None and current.pid == os.getpid():
            runtime_path.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("agentroll sim: stopped", flush=True)
    return 0


def _check_ca_cert(args: argparse.Namespace, fleet: Fleet) -> None:
    """Refuse ``--ca-cert`` for a fleet without HTTPS listeners."""
    if args.ca_cert is not None and not fleet.tls:
        raise SimCommandError(f"--ca-cert: {args.fleet} serves plain HTTP (tls: false), no certificate")


def command_start(args: argparse.Namespace) -> int:
    """Start ``up`` in the background and wait until its control API answers."""
    runtime_path = (args.runtime_file or default_runtime_path()).resolve()
    running = read_runtime(runtime_path)
    if running is not None and process_alive(running.pid):
        raise SimCommandError(
            f"a fleet is already running (pid {running.pid}, control {running.control_url})"
        )
    runtime_path.unlink(missing_ok=True)
    if not args.fleet.is_file():
        raise SimCommandError(f"{args.fleet}: no such fleet file")
    _check_ca_cert(args, Fleet.from_file(args.fleet))
    log_path = runtime_path.with_suffix(".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "agentroll.sim.cli",
        "up",
        str(args.fleet.resolve()),
        "--runtime-file",
        str(runtime_path),
        "--control-port",
        str(args.control_port),
        "--log-level",
        args.log_level,
    ]
    if args.ca_cert is not None:
        command += ["--ca-cert", str(args.ca_cert.resolve())]
    with open(log_path, "ab") as log:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the operator's terminal must not reach it
            env={**os.environ, "AGENTROLL_SIM_LOG": str(log_path)},
        )
    info = _wait_until_ready(child, runtime_path, args.timeout, log_path)
    print(info.control_url)
    return 0


def _wait_until_ready(
    child: subprocess.Popen[bytes], runtime_path: Path, timeout: float, log_path: Path
) -> RuntimeInfo:
    """Wait until the child published its runtime file and its control API answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            raise SimCommandError(f"the fleet exited with status {child.returncode}: " + " | ".join(tail))
        info = read_runtime(runtime_path)
        if info is not None and info.pid == child.pid:
            try:
                ControlClient(info.control_url, timeout=2).health()
                return info
            except ControlError:
                pass
        time.sleep(0.1)
    child.terminate()
    raise SimCommandError(f"the fleet did not become ready within {timeout:g} s (log: {log_path})")


def _running(args: argparse.Namespace) -> RuntimeInfo:
    """Return the running fleet's runtime info, or raise a user error."""
    runtime_path = args.runtime_file or default_runtime_path()
    info = read_runtime(runtime_path)
    if info is None or not process_alive(info.pid):
        raise SimCommandError(f"no fleet is running (no live runtime file at {runtime_path})")
    return info


def command_stop(args: argparse.Namespace) -> int:
    """Stop the background fleet with SIGTERM and wait until it has exited."""
    runtime_path = args.runtime_file or default_runtime_path()
    info = _running(args)
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while process_alive(info.pid):
        if time.monotonic() > deadline:
            raise SimCommandError(f"the fleet (pid {info.pid}) did not stop within {args.timeout:g} s")
        time.sleep(0.1)
    runtime_path.unlink(missing_ok=True)
    print(f"agentroll sim: stopped pid {info.pid}")
    return 0


def parse_fault_value(text: str) -> Any:
    """Read ``true``/``false``/``null``/numbers as JSON; anything else stays a string."""
    lowered = text.strip().lower()
    if lowered in ("yes", "on"):
        return True
    if lowered in ("no", "off"):
        return False
    try:
        return json.loads(lowered if lowered in ("true", "false", "null") else text)
    except ValueError:
        return text


def parse_faults(pairs: Sequence[str]) -> dict[str, Any]:
    """Turn ``key=value`` arguments into a faults mapping."""
    faults: dict[str, Any] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise SimCommandError(f"{pair!r}: a fault is written KEY=VALUE, e.g. refuse_connections=true")
        faults[key.strip()] = parse_fault_value(value)
    return faults


def command_fault(args: argparse.Namespace) -> int:
    """Change a host's faults on the running fleet."""
    faults = parse_faults(args.faults)
    info = _running(args)
    try:
        answer = ControlClient(info.control_url).set_faults(args.address, **faults)
    except ControlError as exc:
        raise SimCommandError(str(exc)) from exc
    print(json.dumps(answer, ensure_ascii=False))
    return 0


def command_power(args: argparse.Namespace) -> int:
    """Switch a host of the running fleet on or off."""
    info = _running(args)
    try:
        answer = ControlClient(info.control_url).set_power(args.address, args.state == "on")
    except ControlError as exc:
        raise SimCommandError(str(exc)) from exc
    print(json.dumps(answer, ensure_ascii=False))
    return 0


def command_journal(args: argparse.Namespace) -> int:
    """Print a running host's journal, one JSON object a line."""
    info = _running(args)
    try:
        entries = ControlClient(info.control_url).journal(args.address)
    except ControlError as exc:
        raise SimCommandError(str(exc)) from exc
    for entry in entries:
        print(json.dumps(entry, ensure_ascii=False, default=str))
    return 0


#: The code of the one unit ``sim inventory`` puts every PC in.
SIM_UNIT_CODE = "SIM"


def fleet_inventory(fleet: Fleet, transport: str, names: str = "address") -> dict[str, Any]:
    """Return an Ansible YAML inventory reaching every host of ``fleet``, in one unit group."""
    addresses = fleet.addresses()
    common_user, common_password = fleet.credentials_for(addresses[0])
    port = 5986 if fleet.tls else 5985
    all_vars = connection_vars(
        transport=transport, tls=fleet.tls, port=port, username=common_user, password=common_password
    )
    all_vars["agentroll_wake_port"] = fleet.wake_on_lan_port
    # Nobody sits at a simulated PC to be warned: it reboots at once instead of after a minute.
    all_vars["agentroll_reboot_delay"] = 0
    hosts: dict[str, dict[str, Any]] = {}
    for address in addresses:
        name = fleet.host(address).computer_name.lower() if names == "computer" else host_name(address)
        host_vars: dict[str, Any] = {"ansible_host": address, "agentroll_mac": fleet.host(address).mac}
        username, password = fleet.credentials_for(address)
        if (username, password) != (common_user, common_password):
            host_vars.update(ansible_user=username, ansible_password=password)
        hosts[name] = host_vars
    # One unit holding every PC, with a license each: the toolkit's playbooks run on `units`.
    unit = {
        "agentroll_unit_code": SIM_UNIT_CODE,
        "agentroll_unit_name": "Simulated fleet",
        "agentroll_licenses": len(hosts),
    }
    units = {"children": {SIM_UNIT_CODE.lower(): {"vars": unit, "hosts": hosts}}}
    return {"all": {"vars": all_vars, "children": {"units": units}}}


def command_inventory(args: argparse.Namespace) -> int:
    """Print (or write) the inventory that reaches a fleet."""
    inventory = fleet_inventory(Fleet.from_file(args.fleet), args.transport, args.names)
    text = "# Connection variables for the simulated fleet " + str(args.fleet) + "\n"
    text += yaml.safe_dump(inventory, sort_keys=False, allow_unicode=True)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``agentroll sim`` alone (``python -m agentroll.sim.cli ACTION ...``)."""
    parser = argparse.ArgumentParser(prog="agentroll-sim")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(subparsers)
    args = parser.parse_args(["sim", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError, ControlError) as exc:
        print(f"agentroll sim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
