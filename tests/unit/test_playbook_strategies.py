"""The playbooks' per-PC plays: each PC at its own pace, results handled as they come.

Under the ``free`` strategy Ansible queues every PC once before it handles any result, and keeps
each queued PC's variables until it does: over 2,000 PCs ansible-playbook grew to 454 MB, against
108 MB under ``host_pinned`` (README, performance). ``host_pinned`` starts a PC only when a worker
is free for it, so a PC whose reboot never returns still holds only its own worker.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


@pytest.mark.parametrize("playbook", ["site.yml", "deploy.yml", "rename.yml"])
def test_the_play_that_changes_the_pcs_takes_each_at_its_own_pace_without_queueing_them_all(
    playbook: str,
) -> None:
    plays = yaml.safe_load((PLAYBOOKS / playbook).read_text(encoding="utf-8"))
    # The first play probes and plans every PC together (the plan needs every probe): linear.
    assert "strategy" not in plays[0]
    assert [play.get("strategy") for play in plays[1:]] == ["ansible.builtin.host_pinned"]


def test_no_playbook_queues_every_pc_before_it_handles_a_result() -> None:
    strategies = {
        (path.name, play.get("name")): play.get("strategy")
        for path in sorted(PLAYBOOKS.glob("*.yml"))
        for play in yaml.safe_load(path.read_text(encoding="utf-8")) or ()
        if isinstance(play, dict) and "hosts" in play
    }
    assert strategies, "no play found"
    free = ("free", "ansible.builtin.free")
    assert not [where for where, strategy in strategies.items() if strategy in free]
