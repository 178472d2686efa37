"""The network cards of the simulated PCs listening for Wake-on-LAN magic packets (UDP).

A magic packet is six 0xFF bytes followed by sixteen repetitions of the target's MAC address,
anywhere in a datagram's payload (senders often repeat the MAC more: community.general.wakeonlan
sends twenty). A real network card of a switched-off PC whose Wake-on-LAN is enabled watches its
segment for that pattern with its own MAC and powers the PC on.

Here every host's card listens on its own loopback address (directed unicast) and the fleet
listens on the broadcast address of each /24 its hosts live in (``x.y.z.255``: the directed
broadcast of a unit's subnet), delivering a packet there to every card of that subnet, which
keeps it only when the MAC is its own. The port is the fleet's ``wake_on_lan_port`` (the real
port 9 needs root to bind; the simulator's default is 9009). Loopback addresses carry no real
broadcast, so 127.x.y.255 stands for it: a datagram sent there reaches every card of 127.x.y.0/24.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import threading
from collections.abc import Iterable
from typing import Protocol

log = logging.getLogger(__name__)

SYNC_STREAM = b"\xff" * 6
MAC_REPEATS = 16
MAX_DATAGRAM = 2048


class WakeableFleet(Protocol):
    """The part of ``agentroll.sim.fleet.Fleet`` the listener uses."""

    wake_on_lan_port: int | None

    def addresses(self) -> list[str]:
        """Return every host address."""
        ...

    def magic_packet(self, address: str, mac: str) -> str | None:
        """Hand a magic packet for ``mac`` to the card at ``address``."""
        ...


def magic_packet_macs(payload: bytes) -> list[str]:
    """Every MAC address (``00-1A-2B-3C-4D-5E``) a payload carries a magic packet for."""
    found: list[str] = []
    # Every place six 0xFF bytes start is a candidate (a longer run of 0xFF, or a MAC that begins
    # with 0xFF, makes several): the one followed by sixteen equal six-byte groups is a packet.
    start = payload.find(SYNC_STREAM)
    while start >= 0:
        body = start + len(SYNC_STREAM)
        mac = payload[body : body + 6]
        if len(mac) == 6 and payload[body : body + 6 * MAC_REPEATS] == mac * MAC_REPEATS:
            text = "-".join(f"{byte:02X}" for byte in mac)
            if text not in found:
                found.append(text)
        start = payload.find(SYNC_STREAM, start + 1)
    return found


def subnet_broadcast(address: str) -> str:
    """The broadcast address of the /24 an IPv4 address lives in (``127.20.3.5`` → ``127.20.3.255``)."""
    return address.rsplit(".", 1)[0] + ".255"


class MagicPacketListener:
    """Listens for magic packets for every host of a fleet, in one background thread."""

    def __init__(self, fleet: WakeableFleet, *, port: int | None = None) -> None:
        self.fleet = fleet
        #: None: nothing listens (a fleet without Wake-on-LAN).
        self.port = fleet.wake_on_lan_port if port is None else port
        self._selector = selectors.DefaultSelector()
        self._sockets: list[socket.socket] = []
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> MagicPacketListener:
        """Bind every card's and every subnet's socket, then listen in the background."""
        if self.port is None:
            return self
        addresses = self.fleet.addresses()
        subnets: dict[str, list[str]] = {}
        for address in addresses:
            subnets.setdefault(subnet_broadcast(address), []).append(address)
        try:
            for address in addresses:
                self._bind(address, (address,))
            for broadcast, members in subnets.items():
                if broadcast not in members:
                    self._bind(broadcast, tuple(members))
        except BaseException:
            self._close_sockets()
            raise
        self._wake_reader.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._listen, name="sim-wake-on-lan", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and close every socket."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")
        if self._thread is not None:
            self._thread.join(timeout)
        self._close_sockets()
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def _bind(self, address: str, cards: tuple[str, ...]) -> None:
        """Listen on ``address`` for the cards at ``cards``."""
        assert self.port is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, self.port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EACCES:
                raise OSError(
                    exc.errno, f"{address}:{self.port}/udp needs root: choose a port above 1023"
                ) from exc
            if exc.errno == errno.EADDRINUSE:
                raise OSError(
                    exc.errno, f"{address}:{self.port}/udp is already in use (another fleet?)"
                ) from exc
            raise
        sock.setblocking(False)
        self._sockets.append(sock)
        self._selector.register(sock, selectors.EVENT_READ, cards)

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            sock.close()
        self._sockets.clear()

    def _listen(self) -> None:
        """Hand every magic packet to the cards that can hear it, until stopped."""
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=1.0):
                if key.data is None:
                    with contextlib.suppress(OSError):
                        self._wake_reader.recv(64)
                    continue
                self._receive(key.fileobj, key.data)  # type: ignore[arg-type]

    def _receive(self, sock: socket.socket, cards: Iterable[str]) -> None:
        """Read the waiting datagrams of one socket and deliver their magic packets."""
        while True:
            try:
                payload, sender = sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                log.exception("magic-packet socket failed")
                return
            for mac in magic_packet_macs(payload):
                for address in cards:
                    try:
                        outcome = self.fleet.magic_packet(address, mac)
                    except Exception:
                        log.exception("host %s: the magic packet from %s failed", address, sender[0])
                        continue
                    if outcome is not None:
                        log.info("host %s: magic packet for %s from %s: %s", address, mac, sender[0], outcome)
