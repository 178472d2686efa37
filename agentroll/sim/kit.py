"""A person running the offline kit on a simulated PC: the kit's script, played in Python.

No PowerShell runs here, so ``run_kit`` follows what ``agentroll/kit_files/Install-Agent.ps1`` does,
step for step, on a ``SimHost``: find the PC in the kit's table by its MAC, read what the probe
reads, check the agent's requirements, check the installer's SHA-256 and run it (the simulated
installer, with the host's faults), rename a workstation that runs the agent (pending until its
next restart), read again and write a receipt in the documented format (``agentroll.receipts``),
UTF-8 with a byte-order mark as Windows PowerShell 5.1 writes it. The PC really changes, so a
later WinRM probe of it agrees with the receipt.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentroll.eligibility import Requirements, evaluate
from agentroll.observe import facts_from_probe
from agentroll.sim.handlers.hostname import RENAME_REASON
from agentroll.sim.handlers.probe import probe
from agentroll.sim.host import SimHost
from agentroll.sim.installer import parse_installer, run_install

KIT_FORMAT = "agentroll.kit/1"
RECEIPT_FORMAT = "agentroll.receipt/1"


def run_kit(kit_dir: Path, host: SimHost, *, now: datetime | None = None) -> Path | None:
    """Run the kit of ``kit_dir`` on ``host``; the receipt written, or None for a PC not in its table."""
    kit = json.loads((kit_dir / "kit.json").read_text(encoding="utf-8"))
    if kit.get("format") != KIT_FORMAT:
        raise ValueError(f"{kit_dir / 'kit.json'} is {kit.get('format')!r}, not {KIT_FORMAT}")
    entry = next((row for row in kit["pcs"] if row["mac"] == host.mac), None)
    if entry is None:
        return None
    agent = kit["agent"]
    with host.lock:
        before = _probe(host, agent)
        verdict = evaluate(Requirements.from_mapping(kit["requirements"]), facts_from_probe(before))
        install: dict[str, Any] = {"result": "already_installed", "exit_code": None}
        if not verdict.eligible:
            install = {"result": "not_eligible", "exit_code": None}
        elif not before["agent"]["installed"]:
            install = _install(kit_dir, agent, host)
        rename = _rename(host, agent, before, entry["standard_name"])
        after = _probe(host, agent)
    moment = now or datetime.now(UTC)
    receipt = {
        "format": RECEIPT_FORMAT,
        "receipt_id": str(uuid.uuid4()),
        "written_at": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kit": {"unit": kit["unit"]["code"], "created_at": kit["created_at"]},
        "mac": entry["mac"],
        "macs": [host.mac],
        "host": entry["host"],
        "standard_name": entry["standard_name"],
        "computer_name_before": before["computer_name"],
        "eligible": verdict.eligible,
        "shortfalls": [reason.english() for reason in verdict.reasons],
        "install": install,
        "rename": rename,
        "probe": after,
    }
    folder = kit_dir / "receipts"
    folder.mkdir(exist_ok=True)
    path = folder / f"{entry['host']}-{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(receipt, indent=2), encoding="utf-8-sig")
    return path


def _probe(host: SimHost, agent: dict[str, Any]) -> dict[str, Any]:
    found = probe(host, agent["product_id"] or None, agent["service_name"] or None, agent["display_name"])
    found.pop("changed", None)
    found.pop("warnings", None)
    return found


def _install(kit_dir: Path, agent: dict[str, Any], host: SimHost) -> dict[str, Any]:
    data = (kit_dir / agent["installer"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != agent["sha256"].lower():
        return {"result": "checksum_mismatch", "exit_code": None}
    spec = parse_installer(data)
    if spec is None:
        raise ValueError(f"{agent['installer']} is not a simulated installer")
    code = run_install(host, spec).rc
    return {"result": "installed" if code in agent["expected_return_codes"] else "failed", "exit_code": code}


def _rename(host: SimHost, agent: dict[str, Any], before: dict[str, Any], standard: str) -> dict[str, Any]:
    rename: dict[str, Any] = {"result": "not_needed", "from": before["computer_name"], "to": standard}
    target = before["pending_computer_name"] or before["computer_name"]
    if target.lower() == standard.lower():
        return rename
    installed = _probe(host, agent)["agent"]["installed"]
    if not installed or before["product_type"] != "workstation":
        rename["result"] = "skipped"
        return rename
    host.pending_computer_name = standard
    host.add_reboot_reason(RENAME_REASON)
    rename["result"] = "renamed"
    return rename
