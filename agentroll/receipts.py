"""``agentroll receipts import``: what the offline kit did on PCs nobody could reach, into the store.

The kit's script (``agentroll/kit_files/Install-Agent.ps1``) writes one receipt per run on a PC, a
JSON file in the kit's ``receipts`` folder (format ``agentroll.receipt/1``)::

    format          "agentroll.receipt/1"
    receipt_id      a GUID, new for every run of the script (an import records each id once)
    written_at      UTC, "2026-12-03T02:15:00Z"
    kit             {unit, created_at}: the kit it came from
    mac             the MAC address the PC was found by in the kit's table; macs: all its cards'
    host            the inventory name of that table row; standard_name: its standard name
    computer_name_before
    eligible, shortfalls     what the script decided (the import judges again, from the facts)
    install         {result: installed | already_installed | not_eligible | failed | checksum_mismatch,
                     exit_code: the installer's, or null}
    rename          {result: renamed | not_needed | skipped | failed, from, to, error (when failed)}
    probe           what the controller's probe module returns, read after installing and renaming

An import reads every receipt first: one that cannot be read, or names a PC (by MAC) that is not in
the inventory, stops it with a line naming the file, and nothing of that import is recorded. The
receipts are then recorded as one run (playbook ``offline-kit``) in one transaction, each as the
observations a probe of that PC would have given (``agentroll.observe``) at the time the receipt was
written, plus the failure of a failed install or rename; a receipt already imported is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentroll.bundle import BundleError, agent_profiles
from agentroll.eligibility import Requirements
from agentroll.inventory import load_inventory
from agentroll.mac import normalize_mac
from agentroll.model import Aspect, Inventory
from agentroll.observe import observations_from_probe
from agentroll.reasons import Reason, text
from agentroll.store import open_store
from agentroll.store.receipts import ReceiptRecord

RECEIPT_FORMAT = "agentroll.receipt/1"
INSTALL_RESULTS = frozenset({"installed", "already_installed", "not_eligible", "failed", "checksum_mismatch"})
RENAME_RESULTS = frozenset({"renamed", "not_needed", "skipped", "failed"})
_PROBE_KEYS = ("computer_name", "os_caption", "os_build", "product_type", "agent")


class ReceiptError(Exception):
    """A receipt cannot be imported; the message names the file and what is wrong."""


@dataclass(frozen=True)
class ImportOutcome:
    """What an import recorded: the run (None when every receipt was known), the PCs, the skipped."""

    run_id: int | None
    hosts: tuple[str, ...]
    already_imported: int


def receipt_files(directory: Path) -> list[Path]:
    """The receipts of a kit folder (its ``receipts`` folder) or of a folder of receipts."""
    folder = directory / "receipts" if (directory / "receipts").is_dir() else directory
    if not folder.is_dir():
        raise ReceiptError(f"{directory} is not a folder")
    return sorted(folder.glob("*.json"))


def import_receipts(
    directory: Path, inventory_path: Path, state: str | Path, *, now: datetime | None = None
) -> ImportOutcome:
    """Record the receipts of ``directory`` for the PCs of the inventory (all or nothing)."""
    inventory = load_inventory(inventory_path)
    files = receipt_files(directory)
    if not files:
        raise ReceiptError(f"no receipt (*.json) in {directory}")
    by_mac = _hosts_by_mac(inventory)
    requirements = _requirements(inventory_path, inventory)
    records = [read_receipt(path, by_mac, requirements) for path in files]
    seen: dict[str, Path] = {}
    for path, record in zip(files, records, strict=True):
        if record.receipt_id in seen:
            raise ReceiptError(f"{path}: receipt {record.receipt_id} is also {seen[record.receipt_id].name}")
        seen[record.receipt_id] = path
    with open_store(state) as store:
        run_id, fresh = store.import_receipts(
            records, inventory=str(inventory_path), now=now or datetime.now(UTC)
        )
    return ImportOutcome(run_id, tuple(sorted({record.host for record in fresh})), len(records) - len(fresh))


def read_receipt(
    path: Path, by_mac: Mapping[str, str], requirements: Mapping[str, Requirements] | None = None
) -> ReceiptRecord:
    """One receipt file as the observations to record; ReceiptError names the file and the problem."""
    try:
        # PowerShell 5.1's Set-Content -Encoding UTF8 writes a byte-order mark.
        receipt = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ReceiptError(f"{path}: not a readable JSON receipt ({error})") from None
    try:
        return _record(receipt, by_mac, requirements)
    except (KeyError, TypeError, ValueError) as error:
        problem = f"missing {error}" if isinstance(error, KeyError) else str(error)
        raise ReceiptError(f"{path}: {problem}") from None


def _record(
    receipt: Any, by_mac: Mapping[str, str], requirements: Mapping[str, Requirements] | None
) -> ReceiptRecord:
    if not isinstance(receipt, Mapping) or receipt.get("format") != RECEIPT_FORMAT:
        raise ValueError(f"not an {RECEIPT_FORMAT} receipt")
    receipt_id = str(receipt["receipt_id"]).strip()
    if not receipt_id:
        raise ValueError("receipt_id is empty")
    written_at = datetime.fromisoformat(str(receipt["written_at"]).replace("Z", "+00:00"))
    if written_at.tzinfo is None:
        raise ValueError(f"written_at {receipt['written_at']!r} has no time zone")
    mac = normalize_mac(str(receipt["mac"]))
    host = by_mac.get(mac)
    if host is None:
        raise ValueError(f"PC {receipt.get('host')!r} with MAC {mac} is not in the inventory")
    if receipt.get("host") != host:
        raise ValueError(
            f"MAC {mac} is PC {host!r} in the inventory, the receipt says {receipt.get('host')!r}"
        )
    probe = receipt["probe"]
    missing = [key for key in _PROBE_KEYS if not isinstance(probe, Mapping) or key not in probe]
    if missing:
        raise ValueError(f"probe: missing {missing[0]!r}")
    install, rename = receipt["install"], receipt["rename"]
    if install.get("result") not in INSTALL_RESULTS:
        raise ValueError(
            f"install.result {install.get('result')!r} is not one of {', '.join(sorted(INSTALL_RESULTS))}"
        )
    if rename.get("result") not in RENAME_RESULTS:
        raise ValueError(
            f"rename.result {rename.get('result')!r} is not one of {', '.join(sorted(RENAME_RESULTS))}"
        )
    observations: list[tuple[Aspect, Mapping[str, Any]]] = list(
        observations_from_probe(probe, (requirements or {}).get(host))
    )
    failure = _failure(install, rename)
    if failure is not None:
        observations.append((Aspect.FAILURE, failure))
    return ReceiptRecord(receipt_id, host, written_at.astimezone(UTC), observations)


def _failure(install: Mapping[str, Any], rename: Mapping[str, Any]) -> dict[str, Any] | None:
    """The failure a receipt reports: the install's (exit code, checksum) first, then the rename's."""
    if install["result"] == "failed":
        return {
            "task": "install",
            "reason": Reason("installer_exit_code", {"exit_code": install.get("exit_code")}).as_value(),
        }
    if install["result"] == "checksum_mismatch":
        return {"task": "install", "reason": Reason("installer_checksum_mismatch").as_value()}
    if rename["result"] == "failed":
        return {"task": "rename", "reason": text(str(rename.get("error") or "rename failed")).as_value()}
    return None


def _hosts_by_mac(inventory: Inventory) -> dict[str, str]:
    """Inventory host by normalised MAC (hosts without one, or with a malformed one, are not found)."""
    found: dict[str, str] = {}
    for host in inventory.hosts:
        if host.mac:
            try:
                found[normalize_mac(host.mac)] = host.name
            except ValueError:
                continue
    return found


def _requirements(inventory_path: Path, inventory: Inventory) -> dict[str, Requirements]:
    """Per PC, the agent's requirements of its profile: eligibility is judged from the receipts' facts."""
    try:
        profiles = agent_profiles(inventory_path, [host.name for host in inventory.hosts])
    except BundleError as error:
        raise ReceiptError(f"cannot judge eligibility: {error}") from None
    return {host: Requirements.from_mapping(profile.requirements) for host, profile in profiles.items()}


def summary(outcome: ImportOutcome) -> str:
    """One line for the operator."""
    if outcome.run_id is None:
        return f"every receipt was imported before ({outcome.already_imported}); nothing recorded"
    line = f"imported the receipts of {len(outcome.hosts)} PC(s) as run {outcome.run_id}"
    return line + (f"; {outcome.already_imported} imported before" if outcome.already_imported else "")
