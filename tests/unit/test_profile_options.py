"""Options an action plugin reads from the agent profile when its task leaves them out."""

from __future__ import annotations

import sys
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from plugin_files import load_plugin_file

options_from_profile = load_plugin_file("plugin_utils/profile_options.py").options_from_profile


class Templar:
    """Renders ``{{ name }}`` from its variables; counts what it was asked to template."""

    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables, self.templated = variables, []

    def template(self, value: Any) -> Any:
        self.templated.append(value)
        if isinstance(value, str) and value.startswith("{{"):
            return self.variables[value.strip("{} ")]
        return value


def test_an_option_the_task_gives_wins_and_an_unset_or_null_variable_is_left_out() -> None:
    variables = {
        "agentroll_a": "from profile",
        "agentroll_b": "{{ agentroll_c }}",
        "agentroll_c": 7,
        "agentroll_n": None,
    }
    templar = Templar(variables)
    found = options_from_profile(
        {"a": "given"},
        variables,
        templar,
        {"a": "agentroll_a", "b": "agentroll_b", "n": "agentroll_n", "u": "agentroll_u"},
    )
    assert found == {"b": 7}
    assert templar.templated == ["{{ agentroll_c }}"]  # the task's own argument is not touched


@pytest.fixture
def agent_package(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The action plugin, its profile helper importable under the collection's name."""
    helper = ModuleType("profile_options")
    helper.options_from_profile = options_from_profile  # type: ignore[attr-defined]
    monkeypatch.setitem(
        sys.modules, "ansible_collections.agentroll.toolkit.plugins.plugin_utils.profile_options", helper
    )
    return load_plugin_file("action/agent_package.py")


PROFILE = {
    "agentroll_agent_installer_local": "/srv/agent.msi",
    "agentroll_agent_remote_path": "C:\\Windows\\Temp\\agent.msi",
    "agentroll_agent_product_id": "",
    "agentroll_agent_service_name": "AgentSvc",
    "agentroll_agent_install_arguments": "/qn KEY=secret",
    "agentroll_agent_installer_sha256": "ab" * 32,
    "agentroll_agent_expected_return_codes": [0, 3010],
}


def _options(
    action_module: ModuleType, task_args: dict[str, Any], variables: dict[str, Any]
) -> dict[str, Any]:
    action = action_module.ActionModule.__new__(action_module.ActionModule)
    action._task = SimpleNamespace(args=task_args)
    action._templar = Templar(variables)
    return action._profile_options(variables)


def test_the_install_takes_every_option_from_the_profile_and_the_service_without_a_product_id(
    agent_package: ModuleType,
) -> None:
    assert _options(agent_package, {}, PROFILE) == {
        "src": "/srv/agent.msi",
        "dest": "C:\\Windows\\Temp\\agent.msi",
        "product_id": "",
        "creates_service": "AgentSvc",
        "arguments": "/qn KEY=secret",
        "checksum": "ab" * 32,
        "expected_return_code": [0, 3010],
    }


def test_a_product_id_from_the_profile_or_the_task_leaves_the_service_out(agent_package: ModuleType) -> None:
    with_product = {**PROFILE, "agentroll_agent_product_id": "{6D1C2F5A-7B3E-4C1A-9E55-A6E0C0FFEE01}"}
    assert "creates_service" not in _options(agent_package, {}, with_product)
    assert "creates_service" not in _options(agent_package, {"product_id": "{X}"}, PROFILE)
    assert _options(agent_package, {"creates_service": "Other"}, PROFILE).get("creates_service") is None
