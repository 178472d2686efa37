"""``make bench``: side-by-side measurements that print ratios, never pass/fail timings.

Each comparison runs its two sides alternately (A B A B A B) in the same process, against the same
simulated fleet, so that a busy machine slows both sides alike; the table shows medians and B/A.

(a) what preflight needs from each PC: the one probe invocation vs the naive several modules a host
    (setup + win_stat + win_service_info + win_package in check mode), on ~40 simulated hosts: wall
    time, controller CPU (the children's rusage: ansible-playbook and its forks) and invocations;
(b) the coverage callback disabled vs enabled on the same playbook (playbooks/verify.yml);
(c) and (d), the store's: what recording one result costs, and the report of 10,000 PCs x 20 runs
    (``agentroll.benchmarks.store``).

    .venv/bin/python -m agentroll.bench [--hosts 40] [--repeat 3] [--forks 20]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tabulate import tabulate

from agentroll.benchmarks import store as store_benchmarks
from agentroll.runner import PlaybookRun, run_playbook

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AGENT = {
    "agent_product_id": "{6D1C2F5A-7B3E-4C1A-9E55-A6E0C0FFEE01}",
    "agent_service_name": "AgentrollSample",
}
#: The naive way: what a playbook would call to learn what the probe returns in one invocation (and
#: it still lacks the free disk space, which ``setup`` does not report on Windows).
NAIVE_TASKS: list[dict[str, Any]] = [
    {"name": "Facts: OS, RAM, architecture, PowerShell, name", "ansible.windows.setup": {}},
    {"name": "System drive", "ansible.windows.win_stat": {"path": "C:\\Windows", "get_checksum": False}},
    {"name": "Agent service", "ansible.windows.win_service_info": {"name": AGENT["agent_service_name"]}},
    {
        "name": "Agent product (check mode: would it install?)",
        "ansible.windows.win_package": {"product_id": AGENT["agent_product_id"], "path": "C:\\none.msi"},
        "check_mode": True,
        "ignore_errors": True,
    },
]
PROBE_TASKS: list[dict[str, Any]] = [
    {"name": "Probe the PC", "agentroll.toolkit.win_agentroll_probe": dict(AGENT)},
]


@dataclass
class Sample:
    """What one run of one side cost."""

    wall: float
    cpu: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class Comparison:
    """Both sides of one comparison, sample by sample."""

    title: str
    a_label: str
    b_label: str
    a: list[Sample] = field(default_factory=list)
    b: list[Sample] = field(default_factory=list)


# --- measuring ----------------------------------------------------------------------------------


def _children_cpu() -> float:
    """CPU seconds (user + system) used so far by waited-for child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_run(run: PlaybookRun) -> Sample:
    """Run a playbook through the runner: its wall time and the CPU of ansible-playbook and its forks."""
    output = io.StringIO()
    cpu_before, started = _children_cpu(), time.perf_counter()
    result = run_playbook(run, echo=output)
    sample = Sample(wall=time.perf_counter() - started, cpu=_children_cpu() - cpu_before)
    # 2 (some host failed) and 4 (unreachable) still measure the work done; anything else is broken.
    if not result.completed:
        tail = output.getvalue().splitlines()[-15:]
        raise RuntimeError(f"ansible-playbook exited {result.rc}:\n" + "\n".join(tail))
    return sample


def alternate(
    comparison: Comparison,
    run_a: Callable[[], Sample],
    run_b: Callable[[], Sample],
    repeat: int,
    say: Callable[[str], None],
) -> Comparison:
    """A B A B ...: ``repeat`` samples of each side, interleaved."""
    for number in range(1, repeat + 1):
        comparison.a.append(run_a())
        comparison.b.append(run_b())
        say(
            f"  {comparison.title}: round {number}/{repeat} "
            f"({comparison.a[-1].wall:.2f} s vs {comparison.b[-1].wall:.2f} s)"
        )
    return comparison


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- (a) and (b): Ansible against the simulated fleet -------------------------------------------


def bench_run(inventory: Path, playbook: Path, work: Path, forks: int, *, callback: bool) -> PlaybookRun:
    """A measured run: its own state and report folder, the coverage callback on or off."""
    env = {"AGENTROLL_STATE": str(work / "state.sqlite"), "AGENTROLL_REPORT_DIR": str(work / "reports")}
    return PlaybookRun(playbook, inventory, env=env, forks=forks, coverage_callback=callback)


def write_playbook(path: Path, name: str, tasks: list[dict[str, Any]]) -> Path:
    """A one-play playbook over every host, without fact gathering."""
    play = [{"name": name, "hosts": "all", "gather_facts": False, "tasks": tasks}]
    path.write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    return path


def module_invocations(handle: Any) -> int:
    """Module invocations the fleet has answered so far (all hosts)."""
    return sum(
        1
        for address in handle.addresses
        for entry in handle.journal(address)
        if entry.get("kind") == "module"
    )


def bench_fleet(hosts: int, repeat: int, forks: int, say: Callable[[str], None]) -> list[Comparison]:
    """(a) probe vs naive and (b) callback off vs on, against one simulated fleet of ``hosts`` PCs."""
    from agentroll.sim.testing import fleet_spec, running_fleet

    spec = fleet_spec(hosts, ram_mb=8192)
    with (
        tempfile.TemporaryDirectory(prefix="agentroll-bench-") as scratch,
        running_fleet(spec, transport="ntlm") as handle,
    ):
        work = Path(scratch)
        names = {f"pc-{index:03d}": address for index, address in enumerate(handle.addresses, start=1)}
        half = len(names) // 2
        units = {
            "snv": {"code": "SNV", "name": "Sở Nội vụ", "licenses": half, "hosts": list(names)[:half]},
            "yte": {"code": "YTE", "name": "Trung tâm Y tế", "licenses": half, "hosts": list(names)[half:]},
        }
        inventory = handle.write_inventory(work / "inventory", hosts=names, units=units)
        probe = write_playbook(work / "probe.yml", "One probe", PROBE_TASKS)
        naive = write_playbook(work / "naive.yml", "Naive facts", NAIVE_TASKS)

        def run_counted(playbook: Path) -> Callable[[], Sample]:
            def run() -> Sample:
                before = module_invocations(handle)
                sample = measure_run(bench_run(inventory, playbook, work, forks, callback=False))
                sample.extra["invocations_per_host"] = (module_invocations(handle) - before) / hosts
                return sample

            return run

        facts = alternate(
            Comparison(f"(a) preflight facts, {hosts} hosts", "one probe", "naive (4 modules)"),
            run_counted(probe),
            run_counted(naive),
            repeat,
            say,
        )
        verify = PROJECT_ROOT / "playbooks" / "verify.yml"
        callback = alternate(
            Comparison(f"(b) verify.yml, {hosts} hosts", "callback off", "callback on"),
            lambda: measure_run(bench_run(inventory, verify, work, forks, callback=False)),
            lambda: measure_run(bench_run(inventory, verify, work, forks, callback=True)),
            repeat,
            say,
        )
    return [facts, callback]


# --- the table ----------------------------------------------------------------------------------


def table_rows(comparisons: Sequence[Comparison]) -> list[list[str]]:
    """One row per measured quantity: medians of A and B and B/A."""
    rows: list[list[str]] = []
    for comparison in comparisons:
        quantities = _quantities(comparison)
        for label, pick, unit in quantities:
            a = _median([pick(sample) for sample in comparison.a])
            b = _median([pick(sample) for sample in comparison.b]) if comparison.b else None
            rows.append(
                [
                    comparison.title,
                    label,
                    f"{comparison.a_label}: {_number(a)} {unit}",
                    f"{comparison.b_label}: {_number(b)} {unit}" if b is not None else "",
                    f"{b / a:.2f}" if b is not None and a else "",
                    _pair_spread(comparison, pick),
                ]
            )
    return rows


def _pair_spread(comparison: Comparison, pick: Callable[[Sample], float]) -> str:
    """min..max of B/A over the A B pairs run back to back: how much the machine's noise moves it."""
    ratios = [pick(b) / pick(a) for a, b in zip(comparison.a, comparison.b, strict=False) if pick(a)]
    return f"{min(ratios):.2f}..{max(ratios):.2f}" if ratios else ""


def _quantities(comparison: Comparison) -> list[tuple[str, Callable[[Sample], float], str]]:
    """What to show for a comparison, from what its samples hold."""
    sample = comparison.a[0]
    quantities: list[tuple[str, Callable[[Sample], float], str]] = [("wall time", lambda s: s.wall, "s")]
    if sample.cpu:
        quantities.append(("controller CPU", lambda s: s.cpu, "s"))
    if "invocations_per_host" in sample.extra:
        quantities.append(("module invocations/host", lambda s: s.extra["invocations_per_host"], ""))
    return quantities


def _number(value: float | None) -> str:
    """Three significant digits, no exponent for the sizes shown here."""
    if value is None:
        return ""
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark and print the table."""
    parser = argparse.ArgumentParser(prog="agentroll-bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=40, help="simulated hosts for (a) and (b) (default 40)")
    parser.add_argument("--repeat", type=int, default=3, help="samples of each side (default 3)")
    parser.add_argument("--forks", type=int, default=20, help="ansible-playbook forks (default 20)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    say(f"agentroll bench: {os.cpu_count()} CPUs; A B A B ... x{args.repeat}; medians below")
    comparisons = bench_fleet(args.hosts, args.repeat, args.forks, say)
    headers = ["benchmark", "quantity", "A (median)", "B (median)", "B/A", "B/A per pair"]
    print(tabulate(table_rows(comparisons), headers=headers, tablefmt="simple", disable_numparse=True))
    print("\n(b) B/A near 1.00: the coverage callback costs nothing noticeable.\n")
    print(store_benchmarks.run(store_benchmarks.HOSTS, store_benchmarks.RUNS, args.repeat, say))
    print(f"\nTotal {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} at the end.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
