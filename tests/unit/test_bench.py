"""``make bench``'s goals table: how pairs of runs become verdicts, and the benchmarks' error paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentroll import bench
from agentroll.benchmarks.fleet import separate_fleet
from agentroll.benchmarks.playbooks import CallbackCost, Pairs, ReadOnlyFigures, Sample


def _pairs(a: list[tuple[float, float, int]], b: list[tuple[float, float, int]]) -> Pairs:
    def sample(wall: float, cpu: float, events: int) -> Sample:
        return Sample(wall=wall, cpu=cpu, fleet_cpu=0.0, events=events)

    return Pairs(a=[sample(*s) for s in a], b=[sample(*s) for s in b])


def _figures(dry_run: Pairs, callback: Pairs) -> ReadOnlyFigures:
    return ReadOnlyFigures(hosts=200, dry_run=dry_run, callback=callback, verify_calls={1: 200})


def test_the_dry_run_goal_takes_the_median_of_the_pairs_ratios_in_cpu_and_wall() -> None:
    # Pair ratios (CPU): 1.10, 1.30, 1.15 -> median 1.15; wall 1.0 each.
    dry_run = _pairs([(10, 10, 0), (10, 10, 0), (10, 20, 0)], [(10, 11, 0), (10, 13, 0), (10, 23, 0)])
    verdict = bench.dry_run_goal(_figures(dry_run, dry_run))
    assert verdict.passed is True
    assert "CPU 1.15 (1.10..1.30), wall 1.00 (1.00..1.00)" in verdict.measured


def test_a_dry_run_slower_in_wall_time_alone_fails_the_goal() -> None:
    dry_run = _pairs([(10, 10, 0)], [(13, 10, 0)])
    assert bench.dry_run_goal(_figures(dry_run, dry_run)).passed is False


def test_the_callback_share_is_whole_process_pairs_and_its_cost_per_event_its_own_count() -> None:
    # Pairs off/on: shares 2.5 %, 5 %, 0 %, 4 %, 1 % -> median 2.5 %; the callback counted 0.1 s
    # in 400 events (250 us each, 20 page faults each) and 0.15 s of fixed work, 2.5 % of 10 s.
    # Its writer process spent 0.02 s beside it (50 us per event, in the share too: 2.7 %).
    cost = CallbackCost(
        events=400, event_seconds=0.1, event_page_faults=8000, fixed_seconds=0.15, writer_seconds=0.02
    )
    off = [(20, 9.75, 400), (20, 9.5, 400), (20, 10.0, 400), (20, 9.6, 400), (20, 9.9, 400)]
    callback = _pairs(off, [(20, 10.0, 400)] * 5)
    for sample in callback.b:
        sample.callback = cost
    figures = _figures(callback, callback)
    # Recording inside ansible-playbook: 0.3 s in 400 events, 40 page faults each.
    alone = CallbackCost(events=400, event_seconds=0.3, event_page_faults=16000, fixed_seconds=0.15)
    figures.in_process = [Sample(wall=20, cpu=10.0, fleet_cpu=1.0, events=400, callback=alone)]
    share, per_event = bench.callback_goals(figures)
    assert (share.passed, per_event.passed) == (True, False)
    assert share.measured.startswith(
        "verify.yml, 200 PCs, 5 pairs off/on: 2.5% (quartiles 0.5%..4.5%, 0.0%..5.0%)"
    )
    assert share.measured.endswith("its hooks' own count 2.7% (quartiles 2.7%..2.7%, 2.7%..2.7%)")
    assert per_event.measured.startswith(
        "250 µs (250..250) in its handlers in Ansible's main loop, 400 events per run, 20 page faults each"
    )
    assert "the writer process 50 µs per event" in per_event.measured
    assert "fixed part 0.15 s per run" in per_event.measured
    assert per_event.measured.endswith("(writer: false): 750 µs, 40 page faults per event")


def test_the_callback_share_fails_when_its_own_count_exceeds_the_goal_whatever_the_pairs_say() -> None:
    # The pairs see nothing (the same CPU off and on); the callback counted 0.4 s of 10 s: 4 %.
    cost = CallbackCost(events=400, event_seconds=0.2, event_page_faults=0, fixed_seconds=0.2)
    callback = _pairs([(20, 10.0, 400)] * 3, [(20, 10.0, 400)] * 3)
    for sample in callback.b:
        sample.callback = cost
    share, _ = bench.callback_goals(_figures(callback, callback))
    assert share.passed is False
    assert share.measured.endswith("its hooks' own count 4.0% (4.0%..4.0%)")


def test_a_run_whose_callback_wrote_no_cost_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"the coverage callback wrote no cost file .*cost\.json"):
        CallbackCost.read(tmp_path / "cost.json")


def test_goals_not_run_print_no_verdict() -> None:
    assert [v.passed for v in bench.linear_goals(None)] == [None]
    assert bench.linear_goals(None)[0].row()[-1] == "-"


def test_a_fleet_that_cannot_start_is_one_clear_error(tmp_path: Path) -> None:
    with (
        pytest.raises(
            RuntimeError, match=r"the simulated fleet exited with status 2 \(.*fleet\.log\): .*hosts"
        ),
        separate_fleet(0, tmp_path),
    ):
        pass
