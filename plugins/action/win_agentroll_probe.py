# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``agentroll.toolkit.win_agentroll_probe``: the probe, its options from the agent profile.

An option the task does not give is read from the agent profile variable of the same name
(``agent_server`` from ``agentroll_agent_server``), so the toolkit's probe task has no arguments.
Each argument a task templates is compiled by Jinja in the worker that runs the task, and a worker
is a fresh fork that keeps nothing: eight ``"{{ agentroll_agent_* }}"`` arguments cost each PC more
controller CPU than the rest of the probe's own controller side. A variable is templated here only
when it holds a template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.plugins.action import ActionBase

#: The module's options that the agent profile gives, each from ``agentroll_<option>``.
PROFILE_OPTIONS = (
    "agent_product_id",
    "agent_service_name",
    "agent_display_name",
    "agent_server",
    "agent_server_timeout_ms",
    "agent_last_contact_key",
    "agent_last_contact_value",
    "agent_last_contact_file",
)


class ActionModule(ActionBase):
    """Fill the options the task leaves out from the agent profile, then run the module."""

    _supports_check_mode = True

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        variables = task_vars or {}
        module_args = {**self._task.args, **self._profile_options(variables)}
        result.update(self._execute_module(module_args=module_args, task_vars=variables))
        return result

    def _profile_options(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The profile's value of each option the task does not give (None: the module's default)."""
        found: dict[str, Any] = {}
        for option in PROFILE_OPTIONS:
            if option in self._task.args:
                continue
            value = variables.get(f"agentroll_{option}")
            if value is not None:
                found[option] = self._templar.template(value)
        return found
