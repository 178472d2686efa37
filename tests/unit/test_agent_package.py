"""What the agent_package action returns of win_package's result: the outcome, never the arguments."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "action" / "agent_package.py"
ARGUMENTS = "/qn SERVER=mgmt.example.vn:8443 KEY=REGKEY-Secr3t-91ad4b"


def _load_plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agentroll_agent_package_action", PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


outcome = _load_plugin()._outcome


@pytest.mark.parametrize(
    ("package", "expected"),
    [
        (
            {"changed": True, "rc": 0, "reboot_required": False},
            {"failed": False, "changed": True, "installed": True, "rc": 0, "reboot_required": False},
        ),
        # win_package says reboot_required for 3010 only; 1641 (restart initiated) waits too.
        (
            {"changed": True, "rc": 1641, "reboot_required": False},
            {"failed": False, "changed": True, "installed": True, "rc": 1641, "reboot_required": True},
        ),
        (
            {"changed": False, "rc": 0},
            {"failed": False, "changed": False, "installed": True, "rc": 0, "reboot_required": False},
        ),
    ],
)
def test_a_successful_install_is_its_outcome(package: dict[str, Any], expected: dict[str, Any]) -> None:
    assert outcome(package, ARGUMENTS) == expected


def test_a_failed_installer_is_its_exit_code_only() -> None:
    package = {
        "failed": True,
        "rc": 1603,
        "msg": f"unexpected rc from 'msiexec.exe /i \"C:\\\\agent.msi\" /qn /norestart {ARGUMENTS}'",
        "stdout": f"args: {ARGUMENTS}",
    }
    assert outcome(package, ARGUMENTS) == {
        "failed": True,
        "changed": False,
        "installed": False,
        "rc": 1603,
        "reboot_required": False,
        "msg": "installer exit code 1603",
    }


def test_another_failure_keeps_its_message_with_the_arguments_and_each_value_hidden() -> None:
    package = {
        "failed": True,
        "msg": "could not start 'msiexec /i agent.msi' (KEY REGKEY-Secr3t-91ad4b refused)",
    }
    result = outcome(package, ARGUMENTS)
    assert result["msg"] == "could not start 'msiexec /i agent.msi' (KEY [hidden] refused)"
    assert "Secr3t" not in repr(result)
