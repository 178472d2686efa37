"""The rule an agent profile must pass before it reaches a real PC, shared by the role and the kit
(the role's side through the real playbook: tests/integration/test_agent_profile_safety.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from agentroll.agent_profile import (
    FILLED_IN_VARIABLES,
    PLACEHOLDER,
    SAMPLE_AGENT_SHA256,
    is_sample_agent,
    unfilled,
)
from agentroll.roster import import_roster

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "agent"


def test_unfilled_names_the_placeholders_in_the_profiles_order() -> None:
    variables = {name: "x" for name in FILLED_IN_VARIABLES}
    assert unfilled(variables) == []
    variables |= {"agentroll_agent_server": PLACEHOLDER, "agentroll_agent_installer": PLACEHOLDER}
    assert unfilled(variables) == ["agentroll_agent_installer", "agentroll_agent_server"]
    # Only roster import's exact marker counts; an empty value is the profile check's business.
    assert unfilled({"agentroll_agent_product_id": "", "agentroll_agent_service_name": "change-me "}) == []


def test_the_sample_agent_is_known_by_one_sha256_on_both_sides() -> None:
    sample = (ROLE / "files" / "sim-agent.msi").read_bytes()
    assert hashlib.sha256(sample).hexdigest() == SAMPLE_AGENT_SHA256
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text(encoding="utf-8"))
    assert role_vars["agentroll_agent_sample_sha256"] == SAMPLE_AGENT_SHA256
    assert is_sample_agent(SAMPLE_AGENT_SHA256.upper() + "\n")
    assert not is_sample_agent("0" * 64)


def test_roster_import_writes_every_checked_variable_as_a_placeholder(tmp_path: Path) -> None:
    units, pcs = tmp_path / "units.csv", tmp_path / "pcs.csv"
    units.write_text("code;name;licenses\nVP;Văn phòng;1\n", encoding="utf-8")
    pcs.write_text("unit;address\nVP;10.0.0.1\n", encoding="utf-8")
    import_roster(units, pcs, tmp_path / "inventory")
    profile = yaml.safe_load((tmp_path / "inventory" / "group_vars" / "all" / "agent.yml").read_text())
    assert unfilled(profile) == list(FILLED_IN_VARIABLES)
