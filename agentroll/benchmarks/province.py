"""``make bench-province``: what one controller takes for a province's dry run, as measured here.

The simulated province of ``agentroll.sim.province`` (10 districts x 192 PCs = 1,920 PCs, one fleet
served by this process), one inventory per district, one PostgreSQL store (a durable throw-away
cluster: fsync on, as a real server). Each district's dry run (playbooks/preflight.yml, through the
runner like every agentroll run) goes one after the other, as one controller would run them; for
each: wall time and CPU of ansible-playbook and its forks (their rusage). Then the province roll-up
(every district's report from the store, added up): wall and CPU of this process. Figures, not
pass/fail: the simulated fleet shares the machine's cores with the controller, so the wall time is
an upper bound for a controller whose PCs are elsewhere.

    .venv/bin/python -m agentroll.benchmarks.province [--districts 10] [--units N] [--forks 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tabulate import tabulate

from agentroll.benchmarks.playbooks import Sample, measure
from agentroll.inventory import load_inventory
from agentroll.report import report_from_store
from agentroll.rollup import DistrictReport, district_name, province_report
from agentroll.runner import PlaybookRun
from agentroll.runner.playbook import PROJECT_ROOT
from agentroll.sim.province import DISTRICTS, build_province, fleet_document, write_province
from agentroll.sim.testing import running_fleet
from agentroll.store import open_store
from agentroll.store.scratch import ScratchPostgres

PREFLIGHT = PROJECT_ROOT / "playbooks" / "preflight.yml"


def run(districts: int, units: int | None, forks: int, say: Callable[[str], None]) -> str:
    """Dry-run every district of the province into one PostgreSQL store, roll up; the table as text."""
    province = build_province(districts, units)
    rows: list[list[str]] = []
    total = Sample(wall=0.0, cpu=0.0, fleet_cpu=0.0, events=0)
    with (
        tempfile.TemporaryDirectory(prefix="agentroll-province-") as scratch,
        ScratchPostgres(durable=True) as cluster,
        running_fleet(fleet_document(province), transport="ntlm") as handle,
    ):
        url = cluster.fresh_store("province")
        inventories = write_province(Path(scratch), province, handle.inventory_vars(), handle.address_of)
        for district, inventory in zip(province, inventories, strict=True):
            env = {
                "AGENTROLL_STATE": url,
                "AGENTROLL_REPORT_DIR": str(Path(scratch) / "reports" / district.slug),
                "AGENTROLL_OPERATOR": f"bench {district.slug}",
            }
            sample = measure(
                PlaybookRun(PREFLIGHT, inventory, env=env, forks=forks, hosts=len(district.hosts))
            )
            total.wall += sample.wall
            total.cpu += sample.cpu
            rows.append(_row(district.name, len(district.hosts), sample))
            say(f"  province: {district.name} {sample.wall:.1f} s wall, {sample.cpu:.1f} s CPU")
        pcs = sum(len(district.hosts) for district in province)
        rows.append(_row("all districts", pcs, total))
        rollup = _rollup(url, inventories)
        rows.append(_row("roll-up report", pcs, rollup))
    headers = ["province dry run", "PCs", "wall s", "CPU s", "CPU ms / PC"]
    table = tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
    setting = f"{os.cpu_count()} CPUs, forks {forks}; the fleet runs in this process, beside the controller."
    return f"{table}\n\n{setting}"


def _row(label: str, pcs: int, sample: Sample) -> list[str]:
    return [label, str(pcs), f"{sample.wall:.1f}", f"{sample.cpu:.1f}", f"{1000 * sample.cpu / pcs:.0f}"]


def _rollup(url: str, inventories: Sequence[Path]) -> Sample:
    """Every district's report from the store, added up: wall and this process's CPU."""
    cpu_before, started = time.process_time(), time.perf_counter()
    with open_store(url, readonly=True) as store:
        parts = []
        for source in inventories:
            inventory = load_inventory(source)
            parts.append(
                DistrictReport(
                    district_name(inventory, source), str(source), report_from_store(inventory, store)
                )
            )
    province_report(parts)
    return Sample(
        wall=time.perf_counter() - started, cpu=time.process_time() - cpu_before, fleet_cpu=0.0, events=0
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the province benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="agentroll-bench-province", description=__doc__.split("\n\n")[0])
    parser.add_argument("--districts", type=int, default=len(DISTRICTS), help="districts (default 10)")
    parser.add_argument("--units", type=int, default=None, help="the first N units of each district")
    parser.add_argument("--forks", type=int, default=20, help="ansible-playbook forks (default 20)")
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    started = time.perf_counter()
    print(run(args.districts, args.units, args.forks, say))
    print(f"\nTotal {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} at the end.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
