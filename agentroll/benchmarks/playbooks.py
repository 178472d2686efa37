"""The playbook benchmarks of ``make bench``: ansible-playbook (through the runner) against a fleet.

Every comparison runs its two sides alternately (A B A B ...) against the same fleet, so that a
busy machine slows both alike; ratios are taken pair by pair (median, min..max). Controller CPU is
ansible-playbook's and its forks' (this process's waited-for children); the fleet runs in a process
of its own and its CPU is counted apart.
"""

from __future__ import annotations

import io
import json
import resource
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from agentroll.benchmarks.fleet import SeparateFleet, separate_fleet
from agentroll.runner import PlaybookRun, run_playbook

#: What the dry run is held against: the cheapest playbook that reaches every PC once.
PING_PLAY = [
    {
        "name": "Reach every PC once",
        "hosts": "units",
        "gather_facts": False,
        "tasks": [{"name": "Ping", "ansible.windows.win_ping": {}}],
    }
]
#: Modules a fresh PC is allowed through site.yml (reboot polling aside).
FRESH_CALL_GOAL = 6
#: No reboot delay: the bench measures the controller, not the courtesy minute a user gets.
SITE_VARS = {"agentroll_reboot_delay": 0}
#: Simulated PCs whose reboot leaves nothing to wait for (goal 3's): down and back up as the shutdown
#: command is answered, so the next boot-time query already sees the new boot.
NO_REBOOT_WAIT = {"boot_seconds": 0, "shutdown_delay_seconds": 0}

Say = Callable[[str], None]


@dataclass(frozen=True)
class CallbackCost:
    """What the coverage callback counted of its own CPU (s) in one run (its ``cost_file``).

    Its handlers are timed whole, per kind of event: a result, and a step's start (most say
    nothing, and cost a look-up). A result's handler includes Ansible building the result's dict
    for this callback (``ansible_copy_seconds``): Ansible does that for each callback that reads it.
    """

    results: int
    result_seconds: float
    result_page_faults: int
    ansible_copy_seconds: float
    starts: int
    start_seconds: float
    fixed_seconds: float
    #: The writer process's CPU (0 when the callback recorded in its own process).
    writer_seconds: float = 0.0
    #: ansible-playbook's own process until its report, its workers left out: user and system CPU
    #: (s), and its peak resident memory (kB).
    main_user_seconds: float = 0.0
    main_system_seconds: float = 0.0
    main_peak_rss_kb: int = 0

    @classmethod
    def read(cls, path: Path) -> CallbackCost:
        """The figures the callback wrote at the end of its run; without them, one clear error."""
        try:
            figures = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise RuntimeError(f"the coverage callback wrote no cost file {path}: {error}") from None
        try:
            events, main = figures["events"], figures["main_process"]
            result, start = events.get("result", {}), events.get("start", {})
            return cls(
                results=int(result.get("count", 0)),
                result_seconds=float(result.get("seconds", 0.0)),
                result_page_faults=int(result.get("page_faults", 0)),
                ansible_copy_seconds=float(figures["ansible_copy_seconds"]),
                starts=int(start.get("count", 0)),
                start_seconds=float(start.get("seconds", 0.0)),
                fixed_seconds=float(figures["fixed_seconds"]),
                writer_seconds=float(figures.get("writer_seconds", 0.0)),
                main_user_seconds=float(main["user_seconds"]),
                main_system_seconds=float(main["system_seconds"]),
                main_peak_rss_kb=int(main["peak_rss_kb"]),
            )
        except KeyError as missing:
            raise RuntimeError(f"the coverage callback's cost file {path} has no {missing}") from None

    @property
    def main_seconds(self) -> float:
        """ansible-playbook's own process, user and system."""
        return self.main_user_seconds + self.main_system_seconds

    @property
    def seconds(self) -> float:
        """All of it, the writer process's included."""
        return self.result_seconds + self.start_seconds + self.fixed_seconds + self.writer_seconds

    def per_result_us(self, seconds: float) -> float:
        """``seconds`` per result event, in µs."""
        return seconds / self.results * 1e6 if self.results else 0.0

    @property
    def faults_per_result(self) -> float:
        return self.result_page_faults / self.results if self.results else 0.0

    @property
    def per_start_us(self) -> float:
        return self.start_seconds / self.starts * 1e6 if self.starts else 0.0

    @property
    def per_event_us(self) -> float:
        """Over all events, results and starts."""
        events = self.results + self.starts
        return (self.result_seconds + self.start_seconds) / events * 1e6 if events else 0.0


@dataclass
class Sample:
    """What one run cost: wall and controller CPU (s), the fleet's CPU (s), result events seen, and
    the coverage callback's own count of its CPU (None when it was off)."""

    wall: float
    cpu: float
    fleet_cpu: float
    events: int
    callback: CallbackCost | None = None


@dataclass
class Pairs:
    """Both sides of one comparison, run A B A B ..."""

    a: list[Sample] = field(default_factory=list)
    b: list[Sample] = field(default_factory=list)

    def median(self, side: str, pick: Callable[[Sample], float]) -> float:
        """The median of one quantity on side ``a`` or ``b``."""
        return statistics.median(pick(sample) for sample in getattr(self, side))

    def ratio(self, pick: Callable[[Sample], float]) -> Ratio:
        """B/A pair by pair."""
        return Ratio([pick(b) / pick(a) for a, b in zip(self.a, self.b, strict=True) if pick(a)])


@dataclass
class Ratio:
    """Ratios of the pairs run back to back."""

    values: list[float]

    @property
    def median(self) -> float:
        """The median ratio (nan when nothing was measured)."""
        return statistics.median(self.values) if self.values else float("nan")

    def spread(self) -> str:
        """min..max, how much the machine's noise moved it."""
        return f"{min(self.values):.2f}..{max(self.values):.2f}" if self.values else "-"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(run: PlaybookRun, fleet: SeparateFleet | None = None) -> Sample:
    """Run ``run`` to its end and return what it cost; a run that did not complete raises.

    ``fleet``: the simulated fleet's own process, whose CPU is measured apart; without it (a fleet
    served by this process) the fleet's CPU is not told apart and reads 0."""
    output = io.StringIO()
    events = 0

    def count(event: Mapping[str, Any]) -> None:
        nonlocal events
        events += str(event.get("event", "")).startswith("runner_on_")

    fleet_seconds = fleet.cpu_seconds if fleet is not None else lambda: 0.0
    cpu, fleet_cpu, wall = _children_cpu(), fleet_seconds(), time.perf_counter()
    result = run_playbook(run, echo=output, on_event=count)
    sample = Sample(
        wall=time.perf_counter() - wall,
        cpu=_children_cpu() - cpu,
        fleet_cpu=fleet_seconds() - fleet_cpu,
        events=events,
    )
    if not result.completed:
        tail = "\n".join(output.getvalue().splitlines()[-15:])
        raise RuntimeError(f"{run.playbook}: ansible-playbook exited {result.rc}:\n{tail}")
    return sample


def alternate(
    run_a: Callable[[], Sample], run_b: Callable[[], Sample], repeat: int, say: Say, title: str
) -> Pairs:
    """``repeat`` samples of each side, A B A B ..."""
    pairs = Pairs()
    for number in range(1, repeat + 1):
        pairs.a.append(run_a())
        pairs.b.append(run_b())
        say(f"  {title}: round {number}/{repeat} ({pairs.a[-1].wall:.1f} s vs {pairs.b[-1].wall:.1f} s)")
    return pairs


class Bench:
    """Runs playbooks against one fleet, each with a fresh state store and report folder."""

    def __init__(self, fleet: SeparateFleet, work: Path, forks: int) -> None:
        self.fleet = fleet
        self.work = work
        self.forks = forks
        self._runs = 0

    def run(
        self, playbook: str | Path, inventory: Path, *, callback: bool = True, writer: bool = True
    ) -> Sample:
        """One measured run of ``playbook``; ``writer`` false records inside ansible-playbook."""
        self._runs += 1
        place = self.work / f"run-{self._runs}"
        cost = place / "callback-cost.json"
        env = {
            "AGENTROLL_STATE": str(place / "state.sqlite"),
            "AGENTROLL_REPORT_DIR": str(place / "reports"),
            "AGENTROLL_CALLBACK_COST": str(cost),
            "AGENTROLL_CALLBACK_WRITER": str(writer).lower(),
        }
        sample = measure(
            PlaybookRun(playbook, inventory, env=env, forks=self.forks, coverage_callback=callback),
            self.fleet,
        )
        if callback:
            sample.callback = CallbackCost.read(cost)
        return sample

    def calls_per_pc(
        self, playbook: str, inventory: Path, addresses: Sequence[str]
    ) -> tuple[Sample, dict[int, int]]:
        """One run, and how many PCs made how many module calls in it (from the fleet's journal)."""
        before = self.fleet.module_calls(addresses)
        sample = self.run(playbook, inventory)
        after = self.fleet.module_calls(addresses)
        histogram: dict[int, int] = {}
        for address in addresses:
            calls = len(after[address]) - len(before[address])
            histogram[calls] = histogram.get(calls, 0) + 1
        return sample, histogram


def write_ping_playbook(work: Path) -> Path:
    """The win_ping playbook the dry run is held against."""
    path = work / "win_ping.yml"
    path.write_text(yaml.safe_dump(PING_PLAY, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class ReadOnlyFigures:
    """Goal 1 (dry run vs win_ping), goal 5 (callback off vs on) and verify's calls per PC."""

    hosts: int
    dry_run: Pairs
    callback: Pairs
    verify_calls: dict[int, int]
    #: verify.yml with the callback recording inside ansible-playbook (no writer process).
    in_process: list[Sample] = field(default_factory=list)


def read_only(
    hosts: int, repeat: int, callback_pairs: int, forks: int, work: Path, say: Say
) -> ReadOnlyFigures:
    """On one fleet of ``hosts`` PCs: preflight vs win_ping (``repeat`` pairs), verify with the
    callback off vs on (``callback_pairs`` pairs), then ``repeat`` verify runs with the callback
    recording in its own process, for its cost per event beside the writer's."""
    with separate_fleet(hosts, work / "read-only") as fleet:
        bench = Bench(fleet, work / "read-only", forks)
        inventory, addresses = fleet.write_inventory(work / "read-only" / "inventory" / "hosts.yml", hosts)
        ping = write_ping_playbook(work)
        _, verify_calls = bench.calls_per_pc("playbooks/verify.yml", inventory, addresses)
        dry_run = alternate(
            lambda: bench.run(ping, inventory),
            lambda: bench.run("playbooks/preflight.yml", inventory),
            repeat,
            say,
            f"goal 1, {hosts} PCs: win_ping vs preflight.yml",
        )
        callback = alternate(
            lambda: bench.run("playbooks/verify.yml", inventory, callback=False),
            lambda: bench.run("playbooks/verify.yml", inventory, callback=True),
            callback_pairs,
            say,
            f"goal 5, {hosts} PCs: verify.yml callback off vs on",
        )
        in_process = [bench.run("playbooks/verify.yml", inventory, writer=False) for _ in range(repeat)]
    return ReadOnlyFigures(hosts, dry_run, callback, verify_calls, in_process)


@dataclass
class SiteFigures:
    """Goals 3 and 4 on site.yml: fresh PCs through it, then compliant PCs (site.yml vs verify).

    Goal 3 leaves the simulated reboots' own wait out, so ``fresh`` runs on PCs that go down and
    come back the moment ``win_reboot`` asks (``NO_REBOOT_WAIT``): every reboot command is still
    sent and answered, only the wait is gone. ``waiting`` is the same run on PCs that reboot as
    asked (``win_reboot``'s 2 s minimum delay, a 0.2 s boot, its back-off polling), beside it.
    """

    hosts: int
    fresh: Sample
    fresh_calls: dict[int, int]
    compliant_calls: dict[int, int]
    compliant: Pairs
    #: The fresh run on PCs that wait as a reboot asks, and each of its reboots' wait (shutdown to
    #: the PC's next command; ``SeparateFleet.reboot_waits``).
    waiting: Sample | None = None
    reboot_waits: list[float] = field(default_factory=list)
    #: The reboots' waits in ``fresh`` (what is left of them: a command's round trip).
    fresh_reboot_waits: list[float] = field(default_factory=list)


def site(hosts: int, repeat: int, forks: int, work: Path, say: Say) -> SiteFigures:
    """``hosts`` fresh PCs through site.yml, with and without the reboots' own wait; then, compliant,
    verify.yml vs site.yml."""
    with separate_fleet(hosts, work / "site-waiting") as fleet:
        waiting = _fresh_site(Bench(fleet, work / "site-waiting", forks), hosts)
        say(f"  goal 3, {hosts} fresh PCs through site.yml, reboots as asked: {waiting.sample.wall:.1f} s")
    with separate_fleet(hosts, work / "site", **NO_REBOOT_WAIT) as fleet:
        bench = Bench(fleet, work / "site", forks)
        fresh = _fresh_site(bench, hosts)
        wall = fresh.sample.wall
        say(f"  goal 3/4, {hosts} fresh PCs through site.yml, reboots without a wait: {wall:.1f} s")
        inventory = fresh.inventory
        _, compliant_calls = bench.calls_per_pc("playbooks/site.yml", inventory, fresh.addresses)
        compliant = alternate(
            lambda: bench.run("playbooks/verify.yml", inventory),
            lambda: bench.run("playbooks/site.yml", inventory),
            repeat,
            say,
            f"goal 4, {hosts} compliant PCs: verify.yml vs site.yml",
        )
    return SiteFigures(
        hosts,
        fresh.sample,
        fresh.calls,
        compliant_calls,
        compliant,
        waiting=waiting.sample,
        reboot_waits=waiting.reboot_waits,
        fresh_reboot_waits=fresh.reboot_waits,
    )


class FreshSite(NamedTuple):
    """One site.yml run over fresh PCs: its cost, calls per PC, its reboots' waits (s), and the
    inventory it ran on with the PCs' addresses."""

    sample: Sample
    calls: dict[int, int]
    reboot_waits: list[float]
    inventory: Path
    addresses: list[str]


def _fresh_site(bench: Bench, hosts: int) -> FreshSite:
    """site.yml over ``hosts`` fresh PCs of the bench's fleet, on an inventory written for them."""
    inventory, addresses = bench.fleet.write_inventory(
        bench.work / "inventory" / "hosts.yml", hosts, SITE_VARS
    )
    sample, calls = bench.calls_per_pc("playbooks/site.yml", inventory, addresses)
    return FreshSite(sample, calls, bench.fleet.reboot_waits(addresses), inventory, addresses)


@dataclass
class ScaleFigures:
    """Goal 2 and 3: the dry run at a small and a large size (pairs), and once at the largest."""

    small: int
    large: int
    pairs: Pairs
    largest: int | None
    largest_sample: Sample | None


def scale(sizes: Sequence[int], repeat: int, forks: int, work: Path, say: Say) -> ScaleFigures:
    """preflight.yml over ``sizes[0]`` vs ``sizes[1]`` PCs (alternating), then once over ``sizes[2]``."""
    small, large, *rest = sizes
    with separate_fleet(max(sizes), work / "scale") as fleet:
        bench = Bench(fleet, work / "scale", forks)
        inventories = {
            size: fleet.write_inventory(work / "scale" / f"inventory-{size}" / "hosts.yml", size)[0]
            for size in sizes
        }
        pairs = alternate(
            lambda: bench.run("playbooks/preflight.yml", inventories[small]),
            lambda: bench.run("playbooks/preflight.yml", inventories[large]),
            repeat,
            say,
            f"goal 2, preflight.yml: {small} vs {large} PCs",
        )
        largest = rest[0] if rest else None
        largest_sample = bench.run("playbooks/preflight.yml", inventories[largest]) if largest else None
        if largest_sample:
            say(f"  goal 2, preflight.yml over {largest} PCs: {largest_sample.wall:.1f} s")
    return ScaleFigures(small, large, pairs, largest, largest_sample)
