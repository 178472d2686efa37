# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``agentroll.toolkit.plan``: ``agentroll.plan.build_plan`` once per play, on the controller.

Thin: it takes this play's probe results from its ``probes`` argument (the role hands it every
play host's registered probe, read from ``hostvars``), the store's views for every other host,
loads the district inventory (the one the coverage callback reports on), and hands all of it to
``build_plan``. It never contacts a host (no
module is executed), so it costs one local task.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

try:
    from agentroll.eligibility import Requirements
    from agentroll.inventory import InventoryError, load_inventory
    from agentroll.naming import NamingError
    from agentroll.plan import build_plan
    from agentroll.reports.dry_run import render_dry_run
    from agentroll.store import StoreError, default_state_location, open_store
except ImportError as import_error:  # run() says what to install; loading must not crash the play
    AGENTROLL_IMPORT_ERROR: ImportError | None = import_error
else:
    AGENTROLL_IMPORT_ERROR = None

CALLBACK_NAME = "agentroll.toolkit.coverage"
#: The coverage callback's variable naming the district inventory (its ``inventory`` option).
INVENTORY_VARIABLE = "AGENTROLL_INVENTORY"


class ActionModule(ActionBase):
    """Compute eligibility, standard names, license grants and reallocation for the whole inventory."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(
        ("probes", "requirements", "template", "state", "inventory", "rename_servers", "installs")
    )

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        if AGENTROLL_IMPORT_ERROR is not None:
            from ansible_collections.agentroll.toolkit.plugins.plugin_utils.python_package import (
                missing_package_message,
            )

            raise AnsibleActionFail(missing_package_message("agentroll.toolkit.plan", AGENTROLL_IMPORT_ERROR))
        # This worker is a fork of a controller that holds the whole district (inventory, every
        # PC's variables and probe): each full pass of the cyclic garbage collector walks all of
        # it, which made the plan cost grow faster than the PC count (measured: 1.43 s for 2,000
        # PCs, 4.86 s for 5,000; without collections 0.94 s and 2.29 s). The worker exits right
        # after the task, so nothing here needs collecting.
        gc.disable()
        try:
            return self._plan(tmp, task_vars or {})
        finally:
            gc.enable()

    def _plan(self, tmp: str | None, task_vars: dict[str, Any]) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(
            argument_spec={
                "probes": {"type": "dict", "required": True},
                "requirements": {"type": "dict", "required": True},
                "template": {"type": "str"},
                "state": {"type": "str"},
                "inventory": {"type": "path"},
                "rename_servers": {"type": "bool", "default": False},
                "installs": {"type": "bool", "default": True},
            }
        )
        try:
            requirements = Requirements.from_mapping(args["requirements"])
        except ValueError as error:
            raise AnsibleActionFail(f"agentroll_agent_requirements: {error}") from None
        inventory_path = args["inventory"] or _inventory_location(task_vars)
        try:
            inventory = load_inventory(inventory_path)
        except InventoryError as error:
            raise AnsibleActionFail(str(error)) from None

        play_hosts = [str(h) for h in task_vars.get("ansible_play_hosts_all") or ()]
        probes = _probes(args["probes"])
        state = args["state"] or _state_location()
        try:
            with open_store(state) as store:
                others = [h.name for h in inventory.hosts if h.name not in probes]
                views = store.views(others) if others else {}
        except StoreError as error:
            raise AnsibleActionFail(str(error)) from None
        try:
            plan = build_plan(
                inventory,
                probes,
                views,
                requirements,
                template=args["template"] or None,
                rename_servers=args["rename_servers"],
                installs=args["installs"],
                unreached=[host for host in play_hosts if host not in probes],
            )
        except NamingError as error:
            raise AnsibleActionFail(f"standard names: {error}") from None

        planned = plan.as_dict()
        result.update(
            changed=False,
            hosts=planned["hosts"],
            reallocation=planned["reallocation"],
            play_hosts=play_hosts,
            summary=render_dry_run(planned, play_hosts, set(probes)),
        )
        return result


def _inventory_location(task_vars: Mapping[str, Any]) -> str:
    """The district inventory the coverage callback reports on: its ``inventory`` option
    ($AGENTROLL_INVENTORY), else the first inventory source of this run that exists on disk.

    A job slice's own inventory holds only its share of the PCs: names and license grants computed
    from it would differ from slice to slice, so a sliced job names the whole district this way.
    """
    configured = _callback_option("inventory") or os.environ.get(INVENTORY_VARIABLE)
    if configured:
        return str(configured)
    sources = task_vars.get("ansible_inventory_sources") or ()
    if isinstance(sources, str):
        sources = [sources]
    for source in sources:
        if os.path.exists(str(source)):
            return str(source)
    raise AnsibleActionFail(
        f"no inventory file or directory among this run's sources: set {INVENTORY_VARIABLE}"
    )


def _state_location() -> str:
    """The coverage callback's state option if Ansible knows it, else $AGENTROLL_STATE / the default."""
    return _callback_option("state") or default_state_location()


def _callback_option(name: str) -> str | None:
    """An option of the coverage callback as configured for this run (ansible.cfg or its environment
    variable), or None when it is empty or the callback's options are not registered in this process."""
    try:
        from ansible import constants

        configured = constants.config.get_config_value(
            name, plugin_type="callback", plugin_name=CALLBACK_NAME
        )
    except Exception:  # the callback's options are not registered in this process
        configured = None
    return str(configured) if configured else None


def _probes(given: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The successful probe results among those given (a failed or skipped probe tells nothing)."""
    return {
        str(host): dict(value)
        for host, value in given.items()
        if isinstance(value, Mapping)
        and not value.get("failed")
        and not value.get("skipped")
        and value.get("os_caption") is not None
    }
