"""The report's history in one pass over the agent timelines equals coverage re-derived run by run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from agentroll import states
from agentroll.model import Aspect
from agentroll.report import installed_after_each_run
from agentroll.store import open_store

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
HOSTS = ["pc-1", "pc-2", "pc-3"]
OUTSIDER = "pc-not-in-the-inventory"

observation = st.tuples(
    st.integers(min_value=0, max_value=5),  # which run made it
    st.sampled_from([*HOSTS, OUTSIDER]),
    st.booleans(),  # installed
    st.integers(min_value=0, max_value=20),  # minutes after T0: observation order is not run order
    st.sampled_from([Aspect.AGENT, Aspect.CONTACT]),
)


@settings(max_examples=300, deadline=None)
@given(runs=st.integers(min_value=1, max_value=6), observations=st.lists(observation, max_size=40))
def test_one_pass_history_equals_the_views_as_of_each_run(
    runs: int, observations: list[tuple[int, str, bool, int, Aspect]]
) -> None:
    with open_store(":memory:") as store:
        run_ids = [store.start_run(f"run-{number}.yml") for number in range(runs)]
        for run_index, host, installed, minutes, aspect in observations:
            value = {"installed": installed} if aspect == Aspect.AGENT else {"status": "ok", "reason": None}
            store.record(run_ids[run_index % runs], host, [(aspect, value)], T0 + timedelta(minutes=minutes))
        expected = {
            run_id: sum(states.is_installed(view) for view in store.views(HOSTS, as_of_run=run_id).values())
            for run_id in run_ids
        }
        one_pass = installed_after_each_run(run_ids, store.timelines(Aspect.AGENT, HOSTS))
    assert one_pass == expected


def test_no_runs_no_history() -> None:
    assert installed_after_each_run([], {}) == {}
    assert installed_after_each_run([1, 2], {}) == {1: 0, 2: 0}
