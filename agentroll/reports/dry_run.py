"""The dry run's lines: per PC eligibility, license and rename, then the totals and the license advice
(moves between units, licenses to return to the district).

Rendered from the plan's JSON form (``agentroll.plan.Plan.as_dict``) for the plan action, which
prints them; a PC the play could not probe is named as such.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from agentroll.i18n import catalog
from agentroll.reports import labels


def render_dry_run(
    planned: Mapping[str, Any], play_hosts: Sequence[str], probed: Collection[str], lang: str = "en"
) -> list[str]:
    """One line per play host, then what the run would do and the advised license moves."""
    texts = catalog(lang)
    _ = texts.gettext
    hosts = planned["hosts"]
    lines: list[str] = []
    for name in play_hosts:
        plan = hosts.get(name)
        if plan is None:
            continue
        if name not in probed:
            line = _("{host} [{unit}]: not probed (unreachable or unmanageable: see above)")
            lines.append(line.format(host=name, unit=plan["unit"]))
            continue
        if plan["installed"]:
            parts = [_("agent installed")]
        elif plan["eligible"]:
            parts = [_("eligible")]
        else:
            parts = [_("INELIGIBLE: {reasons}").format(reasons=labels.reasons(texts, plan["reasons"]))]
        if plan["install"]:
            parts.append(_("will install"))
        elif plan["license_reason"]:
            parts.append(labels.reasons(texts, [plan["license_reason"]]))
        if plan["rename"]:
            rename = _("rename {old} -> {new}")
            parts.append(rename.format(old=plan["computer_name"], new=plan["standard_name"]))
        elif plan.get("rename_withheld"):
            parts.append(labels.reasons(texts, [plan["rename_withheld"]]))
        lines.append(f"{name} [{plan['unit']}]: {', '.join(parts)}")
    renames = sum(1 for name in play_hosts if hosts.get(name, {}).get("rename"))
    installs = sum(1 for name in play_hosts if hosts.get(name, {}).get("install"))
    lines.append(
        _("would install on {installs} PC(s), rename {renames} PC(s)").format(
            installs=installs, renames=renames
        )
    )
    renamed = [name for name in play_hosts if hosts.get(name, {}).get("rename")]
    rebooted = [name for name in play_hosts if hosts.get(name, {}).get("would_reboot")]
    lines.append(_("would rename: {hosts}").format(hosts=", ".join(renamed) or _("none")))
    lines.append(
        _("would reboot (policy agentroll_reboot; an installer may ask for more): {hosts}").format(
            hosts=", ".join(rebooted) or _("none")
        )
    )
    for move in planned["reallocation"]:
        advice = _("reallocation advice: move {licenses} license(s) from {source} to {target}")
        lines.append(advice.format(licenses=move["licenses"], source=move["from"], target=move["to"]))
    for entry in planned.get("returnable") or ():
        returned = _(
            "reallocation advice: return {licenses} license(s) of {unit} to the district (no unit needs them)"
        )
        lines.append(returned.format(licenses=entry["licenses"], unit=entry["unit"]))
    if not planned["reallocation"] and not planned.get("returnable"):
        lines.append(_("reallocation advice: none"))
    return lines
