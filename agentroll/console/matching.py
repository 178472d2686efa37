"""Which inventory PC each console entry stands for: by MAC address, then IP address, then name.

The first key that finds PCs decides; the name is the PC's standard name or its current computer
name (case-insensitively). A key that finds two PCs is *ambiguous*; a MAC (or, without one, an
address) that finds one PC while the name finds another is a *conflict*. Both are listed for a
person to settle and never guessed. The address is the console's at export time: it is ignored
when the MAC address already decided (DHCP gives addresses out again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from agentroll.console.export import ConsoleEntry
from agentroll.model import Host

#: The keys in the order they are tried.
KEYS = ("mac", "address", "name")


@dataclass(frozen=True)
class Match:
    """What became of one console entry.

    ``host`` is the PC it stands for (None when unmatched, ambiguous or conflicting); ``key`` the key
    that decided; ``problem`` is ``ambiguous`` or ``conflict`` with ``candidates`` the PCs involved.
    """

    entry: ConsoleEntry
    host: str | None = None
    key: str | None = None
    problem: str | None = None
    candidates: tuple[str, ...] = ()


class HostIndex:
    """The inventory's PCs by MAC, address and name (standard and current), for matching."""

    def __init__(
        self,
        hosts: Iterable[Host],
        standard_names: Mapping[str, str],
        computer_names: Mapping[str, str | None],
    ) -> None:
        self.by: dict[str, dict[str, set[str]]] = {key: {} for key in KEYS}
        for host in hosts:
            if host.mac:
                self.by["mac"].setdefault(host.mac, set()).add(host.name)
            if host.address:
                self.by["address"].setdefault(host.address.lower(), set()).add(host.name)
            for name in (standard_names.get(host.name), computer_names.get(host.name)):
                if name:
                    self.by["name"].setdefault(name.lower(), set()).add(host.name)

    def candidates(self, key: str, entry: ConsoleEntry) -> tuple[str, ...]:
        """The PCs ``entry`` points at by ``key``, sorted."""
        value = {"mac": entry.mac, "address": entry.address, "name": entry.computer_name}[key]
        return tuple(sorted(self.by[key].get(value.lower() if key != "mac" else value, ()))) if value else ()


def match_entry(entry: ConsoleEntry, index: HostIndex) -> Match:
    """Match one entry (see the module's rules)."""
    found = {key: index.candidates(key, entry) for key in KEYS}
    deciding = next((key for key in KEYS if found[key]), None)
    if deciding is None:
        return Match(entry)
    candidates = found[deciding]
    if len(candidates) > 1:
        return Match(entry, key=deciding, problem="ambiguous", candidates=candidates)
    host = candidates[0]
    # The address is only checked against the name: after a MAC it says nothing (DHCP).
    checked = ("name",) if deciding in ("mac", "address") else ()
    others = {other for key in checked for other in found[key] if other != host}
    if others and host not in found["name"]:
        return Match(entry, key=deciding, problem="conflict", candidates=tuple(sorted({host, *others})))
    return Match(entry, host=host, key=deciding)


def match_entries(entries: Sequence[ConsoleEntry], index: HostIndex) -> list[Match]:
    """Match every entry, in the export's order."""
    return [match_entry(entry, index) for entry in entries]
