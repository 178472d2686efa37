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
PROFILE_VARIABLES = {option: f"agentroll_{option}" for option in PROFILE_OPTIONS}


class ActionModule(ActionBase):
    """Fill the options the task leaves out from the agent profile, then run the module."""

    _supports_check_mode = True

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        from ansible_collections.agentroll.toolkit.plugins.plugin_utils.profile_options import (
            options_from_profile,
        )

        result = super().run(tmp, task_vars)
        variables = task_vars or {}
        profile = options_from_profile(self._task.args, variables, self._templar, PROFILE_VARIABLES)
        module_args = {**self._task.args, **profile}
        result.update(self._execute_module(module_args=module_args, task_vars=variables))
        return result
