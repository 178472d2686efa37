# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ``agentroll.toolkit.agent_package``: put the installer on the PC and install the agent.

An option the task leaves out is read from the agent profile (``AGENT_PROFILE``; ``creates_service``
from ``agentroll_agent_service_name`` when there is no product id), so the agent role's install task
has no argument for each PC's worker to compile (``plugin_utils/profile_options.py``).

One task that carries its own outcome: the installer goes over the connection's own file transfer
(no ``win_copy`` query and copy modules), then ``ansible.windows.win_package`` runs on the PC with
``no_log`` (its arguments may hold a registration key) and the result is rebuilt from safe fields
only. The task itself therefore needs no ``no_log``, and the coverage callback records the install
the moment its result arrives, whatever happens to the run afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

#: Installer exit codes after which the agent is installed but waits for a reboot.
REBOOT_CODES = frozenset({3010, 1641})
HIDDEN = "[hidden]"

ARGUMENT_SPEC: dict[str, Any] = {
    "src": {"type": "path", "required": True},
    "dest": {"type": "str", "required": True},
    "product_id": {"type": "str", "default": ""},
    "creates_service": {"type": "str", "default": ""},
    "arguments": {"type": "str", "default": "", "no_log": True},
    "checksum": {"type": "str", "required": True},
    "expected_return_code": {"type": "list", "elements": "int", "default": [0, 3010, 1641]},
}


#: The options the agent profile gives, and the variable each comes from.
AGENT_PROFILE = {
    "src": "agentroll_agent_installer_local",
    "dest": "agentroll_agent_remote_path",
    "product_id": "agentroll_agent_product_id",
    "arguments": "agentroll_agent_install_arguments",
    "checksum": "agentroll_agent_installer_sha256",
    "expected_return_code": "agentroll_agent_expected_return_codes",
}


class ActionModule(ActionBase):
    """Transfer the installer, run win_package with no_log, return only what is safe to show."""

    # The installer goes to an explicit path, so no remote temporary directory is made.
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        self._task.args = {**self._profile_options(task_vars or {}), **self._task.args}
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if not (args["product_id"] or args["creates_service"]):
            raise AnsibleActionFail("agent_package: give product_id or creates_service")
        if self._task.check_mode:
            # A dry run contacts nothing: the plan already knows the agent is missing here.
            result.update(changed=True, installed=False, rc=None, reboot_required=False)
            return result
        source = self._find_needle("files", args["src"])
        self._transfer_file(source, args["dest"])
        package = self._run_package(args, task_vars or {})
        result.update(_outcome(package, args["arguments"]))
        return result

    def _profile_options(self, task_vars: Mapping[str, Any]) -> dict[str, Any]:
        """The options the task leaves out, from the agent profile (only as the role's task runs)."""
        from ansible_collections.agentroll.toolkit.plugins.plugin_utils.profile_options import (
            options_from_profile,
        )

        found = options_from_profile(self._task.args, task_vars, self._templar, AGENT_PROFILE)
        product_id = self._task.args.get("product_id", found.get("product_id"))
        if "creates_service" not in self._task.args and not product_id:
            found.update(
                options_from_profile(
                    {}, task_vars, self._templar, {"creates_service": "agentroll_agent_service_name"}
                )
            )
        return found

    def _run_package(self, args: Mapping[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        """win_package on the PC; no_log keeps the arguments out of the PC's own module logging."""
        module_args = {
            "path": args["dest"],
            "state": "present",
            "checksum": args["checksum"],
            "checksum_algorithm": "sha256",
            "expected_return_code": args["expected_return_code"],
        }
        for option in ("product_id", "creates_service", "arguments"):
            if args[option]:
                module_args[option] = args[option]
        task_no_log = self._task.no_log
        self._task.no_log = True  # _execute_module passes the task's no_log to the module
        try:
            return self._execute_module(
                module_name="ansible.windows.win_package", module_args=module_args, task_vars=task_vars
            )
        finally:
            self._task.no_log = task_no_log


def _outcome(package: Mapping[str, Any], arguments: str) -> dict[str, Any]:
    """The task's result, from safe fields of win_package's: no argument string, ever."""
    rc = package.get("rc")
    failed = bool(package.get("failed"))
    outcome: dict[str, Any] = {
        # Said explicitly: Ansible fails any result whose rc is not 0 unless it says otherwise.
        "failed": failed,
        "changed": bool(package.get("changed")) and not failed,
        "installed": not failed,
        "rc": rc,
        "reboot_required": not failed and (bool(package.get("reboot_required")) or rc in REBOOT_CODES),
    }
    if failed:
        outcome["msg"] = _failure_message(package, arguments)
    return outcome


def _failure_message(package: Mapping[str, Any], arguments: str) -> str:
    """``installer exit code N`` when the installer ran, else win_package's message, secrets hidden."""
    rc = package.get("rc")
    if isinstance(rc, int) and not isinstance(rc, bool) and rc != 0:
        return f"installer exit code {rc}"
    message = str(package.get("msg") or "win_package failed")
    # The whole argument string, and each NAME=value's value on its own (a key quoted elsewhere).
    values = [token.split("=", 1)[1] for token in arguments.split() if "=" in token]
    for secret in (arguments, *values):
        if secret:
            message = message.replace(secret, HIDDEN)
    return message
