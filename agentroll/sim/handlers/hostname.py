"""win_hostname: a rename is pending until the host reboots, as on Windows."""

from __future__ import annotations

import re
from typing import Any

from agentroll.sim.decoder import ModuleRun
from agentroll.sim.handlers.base import ModuleFailure, ModuleResult, ModuleSpec, module_handler
from agentroll.sim.host import SimHost

RENAME_REASON = "computer rename"
_VALID_NETBIOS = re.compile(r"^[A-Za-z0-9-]{1,15}$")


@module_handler("win_hostname", ModuleSpec(options={"name": None}, required=frozenset({"name"})))
def win_hostname(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Rename the computer; the new name shows only after a reboot.

    Like the real module (which compares against Win32_ComputerSystem.DNSHostname, i.e. the
    name in effect), asking again for a name that is pending still reports a change.
    """
    new_name = str(params["name"])
    current = host.computer_name
    result: ModuleResult = {"changed": False, "old_name": current, "reboot_required": False}
    if run.diff:
        result["diff"] = {"before": current, "after": new_name}
    # PowerShell's -ne is case-insensitive, so changing only the case is not a rename.
    if new_name.lower() == current.lower():
        return result
    if not _VALID_NETBIOS.match(new_name) or new_name.isdigit():
        raise ModuleFailure(
            f"Failed to rename computer to '{new_name}': Skip computer '{current}' with new name "
            f"'{new_name}' because the new name is not valid. The new computer name entered is not "
            "properly formatted. Standard names may contain letters (a-z, A-Z), numbers (0-9), and "
            "hyphens (-), but no spaces or periods (.). The name may not consist entirely of digits, "
            "and may not be longer than 63 characters.",
            old_name=current,
            reboot_required=False,
        )
    if not run.check_mode:
        host.pending_computer_name = new_name
        host.add_reboot_reason(RENAME_REASON)
    result.update(changed=True, reboot_required=True)
    return result
