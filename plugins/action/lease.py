# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``agentroll.toolkit.lease``: take this run's lease on the PCs it is about to change.

Thin over ``agentroll.store`` (``Store.acquire_leases``): once per play, on the controller, it takes
a lease on every play host for this ``ansible-playbook`` process and returns the hosts another live
run holds, with who holds them, so that the play leaves those alone. Two watches, a watch and a
manual run, or two operators on one PostgreSQL store never deploy to one PC at once. Check mode
takes nothing and only reports the PCs held by others.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

try:
    from agentroll.store import StoreError, default_state_location, open_store
except ImportError as import_error:  # run() says what to install; loading must not crash the play
    AGENTROLL_IMPORT_ERROR: ImportError | None = import_error
else:
    AGENTROLL_IMPORT_ERROR = None

CALLBACK_NAME = "agentroll.toolkit.coverage"


class ActionModule(ActionBase):
    """Lease the play's PCs to this ansible-playbook process; report those another run holds."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("hosts", "purpose", "state"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        if AGENTROLL_IMPORT_ERROR is not None:
            from ansible_collections.agentroll.toolkit.plugins.plugin_utils.python_package import (
                missing_package_message,
            )

            raise AnsibleActionFail(
                missing_package_message("agentroll.toolkit.lease", AGENTROLL_IMPORT_ERROR)
            )
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(
            argument_spec={
                "hosts": {"type": "list", "elements": "str"},
                "purpose": {"type": "str"},
                "state": {"type": "str"},
            }
        )
        hosts = args["hosts"] if args["hosts"] is not None else task_vars.get("ansible_play_hosts") or []
        purpose = args["purpose"] or os.path.basename(str(task_vars.get("ansible_play_name") or "play"))
        # Tasks run in a worker forked from ansible-playbook: the run's process is the parent.
        holder = os.getppid()
        now = datetime.now(UTC)
        try:
            with open_store(args["state"] or _state_location()) as store:
                if self._task.check_mode:
                    wanted = set(hosts)
                    held = {
                        lease.host: lease
                        for lease in store.leases(now)
                        if lease.host in wanted and lease.holder.pid != holder
                    }
                else:
                    held = store.acquire_leases(hosts, purpose=purpose, pid=holder, now=now)
        except StoreError as error:
            raise AnsibleActionFail(str(error)) from None
        refused = {
            host: f"{lease.purpose} holds it: {lease.holder.describe()}"
            for host, lease in sorted(held.items())
        }
        result.update(
            changed=False,
            granted=[] if self._task.check_mode else sorted(set(hosts) - set(refused)),
            refused=refused,
        )
        return result


def _state_location() -> str:
    """The coverage callback's state option if Ansible knows it, else $AGENTROLL_STATE / the default."""
    try:
        from ansible import constants

        configured = constants.config.get_config_value(
            "state", plugin_type="callback", plugin_name=CALLBACK_NAME
        )
    except Exception:  # the callback's options are not registered in this process
        configured = None
    return str(configured) if configured else default_state_location()
