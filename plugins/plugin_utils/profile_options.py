# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options a task leaves out, read from the agent profile's variables by the action plugin itself.

Each argument a task templates (``"{{ agentroll_agent_server }}"``) is compiled by Jinja in the
worker that runs the task, and a worker is a fresh fork that keeps nothing: a millisecond or two
per argument, on every PC. An action that reads the profile's variables itself templates a value
only when the value holds a template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def options_from_profile(
    task_args: Mapping[str, Any],
    variables: Mapping[str, Any],
    templar: Any,
    variable_of: Mapping[str, str],
) -> dict[str, Any]:
    """Each option of ``variable_of`` the task does not give, from its variable (unset or null: left out)."""
    found: dict[str, Any] = {}
    for option, variable in variable_of.items():
        if option in task_args:
            continue
        value = variables.get(variable)
        if value is not None:
            found[option] = templar.template(value)
    return found
