"""Read a district's inventory: units are groups under ``units``, licensed PCs are their hosts.

Two layers. ``build_inventory`` is pure validation of plain data (group and host variables) and
knows nothing of Ansible. ``load_inventory`` is the one adapter in the library that imports Ansible:
it lets Ansible's own inventory machinery parse the directory (INI/YAML, ``group_vars/``,
``host_vars/``, inline vault strings) and hands plain data to ``build_inventory``.

Which groups are units (walking the tree below ``units`` top-down, in inventory order):

- a group that sets ``agentroll_unit_code``, ``agentroll_unit_name`` or ``agentroll_licenses``, has
  hosts of its own, or has no child groups is a unit, and must then carry a valid code and
  license count;
- any other group (no hosts of its own, no unit variables, only child groups, e.g. ``departments``
  or ``communes``) is a grouping group: it is walked through and never counted;
- the hosts of a unit are its own hosts and those of its descendant groups (Ansible's membership
  rule), so a sub-group such as ``laptops`` below a unit belongs to that unit; a descendant that
  sets unit variables itself is a unit nested inside a unit, which is an error;
- hosts outside the ``units`` tree are not licensed PCs and are ignored; a host placed directly in
  ``units`` belongs to no unit, which is an error (a group holding hosts is a unit, by the first rule).

The deadline (``agentroll_deadline``, ``YYYY-MM-DD``) is taken from the unit, else from the nearest
grouping group above it, else from ``units``, else from ``all``. The time zone the reports show
times in (``agentroll_timezone``, an IANA name) is taken from ``units``, else from ``all``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypedDict

from agentroll.i18n import timezone
from agentroll.model import Host, Inventory, Unit

UNITS_GROUP = "units"
UNIT_CODE_PATTERN = re.compile(r"[A-Z0-9]{1,8}")
#: C0 and C1 control characters (NUL included): never part of a name, code, owner or address.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
UNIT_VARS = ("agentroll_unit_code", "agentroll_unit_name", "agentroll_licenses")
#: The host variables the toolkit reads; the loader copies only these, so that secrets (and inline
#: vault strings, which ansible-core decrypts lazily) are never touched.
HOST_VARS = ("ansible_host", "agentroll_owner", "agentroll_standard_name", "agentroll_mac")
GROUP_VARS = (*UNIT_VARS, "agentroll_deadline", "agentroll_name_template", "agentroll_timezone")
#: Entries agentroll keeps inside an inventory directory that are not inventory sources: the roster
#: spreadsheet the inventory was imported from, and the simulated fleet standing for its PCs.
#: (ansible.cfg should list them in ``[inventory] ignore_patterns`` for ansible-playbook, too.)
NOT_INVENTORY = frozenset({"roster", "fleet.yml"})


class InventoryError(ValueError):
    """The inventory is invalid; the message has one line per problem, each naming its culprit."""


class GroupData(TypedDict, total=False):
    """One group as plain data: its own variables, child group names and own host names."""

    vars: Mapping[str, Any]
    children: Sequence[str]
    hosts: Sequence[str]


#: A host's variables as plain data.
HostData = Mapping[str, Any]


@dataclass(frozen=True)
class _UnitDraft:
    """A unit group found while walking the tree, before its variables are validated."""

    group: str
    deadline_source: tuple[str, ...]  # the group and its ancestors, nearest first


def build_inventory(groups: Mapping[str, GroupData], hosts: Mapping[str, HostData]) -> Inventory:
    """Validate group and host variables into an ``Inventory``.

    Raises ``InventoryError`` listing every problem found, one per line.
    """
    errors: list[str] = []
    if UNITS_GROUP not in groups:
        raise InventoryError(f"inventory has no group '{UNITS_GROUP}': unit groups must be its children")
    drafts = _find_unit_groups(groups, errors)
    units = [unit for draft in drafts if (unit := _build_unit(draft, groups, errors)) is not None]
    # Cross-checks also cover units with other problems, so one run of the command shows everything.
    codes = _valid_codes(drafts, groups)
    _check_duplicate_codes(codes, errors)
    inventory_hosts = _build_hosts(drafts, codes, groups, hosts, errors)
    _check_duplicate_addresses(inventory_hosts, errors)
    top_deadline = _deadline_of((UNITS_GROUP, "all"), groups, errors)
    name_template = _name_template_of((UNITS_GROUP, "all"), groups, errors)
    zone = _timezone_of((UNITS_GROUP, "all"), groups, errors)
    if errors:
        raise InventoryError("\n".join(dict.fromkeys(errors)))
    return Inventory(
        units=tuple(units),
        hosts=tuple(inventory_hosts),
        deadline=top_deadline,
        name_template=name_template,
        timezone=zone,
    )


def _group(groups: Mapping[str, GroupData], name: str) -> GroupData:
    """A group's data; an unknown name reads as an empty group."""
    return groups.get(name) or {}


def _is_unit_group(data: GroupData) -> bool:
    """A unit declares unit variables, holds hosts itself, or is a leaf of the tree."""
    declares = any(key in (data.get("vars") or {}) for key in UNIT_VARS)
    return declares or bool(data.get("hosts")) or not data.get("children")


def _find_unit_groups(groups: Mapping[str, GroupData], errors: list[str]) -> list[_UnitDraft]:
    """Walk the tree below ``units`` and return its unit groups in inventory order."""
    drafts: list[_UnitDraft] = []
    seen: set[str] = set()
    units_data = _group(groups, UNITS_GROUP)
    for name in units_data.get("hosts") or ():
        errors.append(f"host '{name}' is directly in group '{UNITS_GROUP}', not in a unit group")

    def walk(name: str, ancestors: tuple[str, ...]) -> None:
        """Descend from ``name``; stop at the first unit group on each path."""
        if name in seen:
            return
        seen.add(name)
        data = _group(groups, name)
        if _is_unit_group(data):
            drafts.append(_UnitDraft(group=name, deadline_source=(name, *ancestors)))
            _check_nested_units(name, groups, errors)
            return
        for child in data.get("children") or ():
            walk(child, (name, *ancestors))

    for child in units_data.get("children") or ():
        walk(child, (UNITS_GROUP, "all"))
    return drafts


def _descendants(name: str, groups: Mapping[str, GroupData]) -> list[str]:
    """Every group below ``name`` (each once, in walk order)."""
    found: list[str] = []
    pending = list(_group(groups, name).get("children") or ())
    while pending:
        child = pending.pop(0)
        if child in found or child == name:
            continue
        found.append(child)
        pending.extend(_group(groups, child).get("children") or ())
    return found


def _check_nested_units(unit_group: str, groups: Mapping[str, GroupData], errors: list[str]) -> None:
    """A sub-group of a unit may hold hosts but must not declare itself a unit."""
    for child in _descendants(unit_group, groups):
        declared = [key for key in UNIT_VARS if key in (_group(groups, child).get("vars") or {})]
        if declared:
            errors.append(
                f"group '{child}' sets {declared[0]} but is inside unit group '{unit_group}':"
                " units cannot nest"
            )


def _build_unit(draft: _UnitDraft, groups: Mapping[str, GroupData], errors: list[str]) -> Unit | None:
    """Validate one unit group's variables; record problems and return None if it is invalid."""
    group_vars = _group(groups, draft.group).get("vars") or {}
    count_before = len(errors)
    code = group_vars.get("agentroll_unit_code")
    if code is None:
        errors.append(f"unit group '{draft.group}': agentroll_unit_code is missing")
    elif not isinstance(code, str) or not UNIT_CODE_PATTERN.fullmatch(code):
        errors.append(
            f"unit group '{draft.group}': agentroll_unit_code {code!r} does not match [A-Z0-9]{{1,8}}"
        )
    licenses = _parse_licenses(draft.group, group_vars, errors)
    deadline = _deadline_of(draft.deadline_source, groups, errors)
    if len(errors) > count_before:
        return None
    name = group_vars.get("agentroll_unit_name")
    # A missing display name is not worth refusing the inventory: the group name stands in.
    display_name = str(name) if name not in (None, "") else draft.group
    return Unit(code=str(code), name=display_name, licenses=licenses, group=draft.group, deadline=deadline)


def _parse_licenses(group: str, group_vars: Mapping[str, Any], errors: list[str]) -> int:
    """Return the unit's license count, accepting an int or a string of digits."""
    if "agentroll_licenses" not in group_vars:
        errors.append(f"unit group '{group}': agentroll_licenses is missing")
        return 0
    value = group_vars["agentroll_licenses"]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    # INI inventories and quoted YAML hand numbers over as strings.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    errors.append(f"unit group '{group}': agentroll_licenses {value!r} is not a non-negative integer")
    return 0


def _name_template_of(
    source: Iterable[str], groups: Mapping[str, GroupData], errors: list[str]
) -> str | None:
    """Return the district's ``agentroll_name_template`` (from ``units``, else ``all``), if set."""
    for name in source:
        group_vars = _group(groups, name).get("vars") or {}
        if "agentroll_name_template" in group_vars:
            value = group_vars["agentroll_name_template"]
            if isinstance(value, str) and value.strip():
                return value
            errors.append(f"group '{name}': agentroll_name_template {value!r} is not a template string")
            return None
    return None


def _timezone_of(source: Iterable[str], groups: Mapping[str, GroupData], errors: list[str]) -> str | None:
    """Return the district's ``agentroll_timezone`` (from ``units``, else ``all``), if set and known."""
    for name in source:
        group_vars = _group(groups, name).get("vars") or {}
        if "agentroll_timezone" in group_vars:
            value = group_vars["agentroll_timezone"]
            try:
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"{value!r} is not a time zone name such as 'Asia/Ho_Chi_Minh'")
                timezone(value.strip())
            except ValueError as error:
                errors.append(f"group '{name}': agentroll_timezone: {error}")
                return None
            return value.strip()
    return None


def _deadline_of(source: Iterable[str], groups: Mapping[str, GroupData], errors: list[str]) -> date | None:
    """Return the first ``agentroll_deadline`` found along ``source`` (nearest group first)."""
    for name in source:
        group_vars = _group(groups, name).get("vars") or {}
        if "agentroll_deadline" in group_vars:
            return _parse_date(name, group_vars["agentroll_deadline"], errors)
    return None


def _parse_date(group: str, value: Any, errors: list[str]) -> date | None:
    """Accept a YAML date or a ``YYYY-MM-DD`` string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors.append(f"group '{group}': agentroll_deadline {value!r} is not a date (YYYY-MM-DD)")
    return None


def _build_hosts(
    drafts: Sequence[_UnitDraft],
    code_of_group: Mapping[str, str],
    groups: Mapping[str, GroupData],
    hosts: Mapping[str, HostData],
    errors: list[str],
) -> list[Host]:
    """Assign every host of a unit group (or its sub-groups) to that unit; a host may be in one unit only.

    Hosts of a unit with an unusable code are still built (and checked), under the code ``?``.
    """
    unit_of_host: dict[str, str] = {}
    result: list[Host] = []
    for draft in drafts:
        for name in _hosts_in(draft.group, groups):
            if name in unit_of_host:
                if unit_of_host[name] != draft.group:
                    errors.append(
                        f"host '{name}' is in two units: '{unit_of_host[name]}' and '{draft.group}'"
                    )
                continue
            unit_of_host[name] = draft.group
            code = code_of_group.get(draft.group, "?")
            result.append(_build_host(name, code, hosts.get(name) or {}, errors))
    return result


def _hosts_in(group: str, groups: Mapping[str, GroupData]) -> list[str]:
    """A group's own hosts followed by those of its descendants, each once."""
    names = list(_group(groups, group).get("hosts") or ())
    for child in _descendants(group, groups):
        names.extend(_group(groups, child).get("hosts") or ())
    return list(dict.fromkeys(names))


def _build_host(name: str, unit_code: str, host_vars: HostData, errors: list[str]) -> Host:
    """Read the toolkit's host variables; empty strings count as unset."""

    def text(key: str) -> str | None:
        """The variable as stripped text, None when unset or empty."""
        value = host_vars.get(key)
        if value is None or str(value).strip() == "":
            return None
        if not isinstance(value, (str, int)):
            errors.append(f"host '{name}': {key} {value!r} is not a string")
            return None
        if found := CONTROL_CHARACTER.search(str(value)):
            errors.append(f"host '{name}': {key} holds the control character U+{ord(found.group()):04X}")
            return None
        return str(value).strip()

    return Host(
        name=name,
        unit=unit_code,
        address=text("ansible_host"),
        owner=text("agentroll_owner"),
        standard_name_override=text("agentroll_standard_name"),
        mac=text("agentroll_mac"),
    )


def _valid_codes(drafts: Sequence[_UnitDraft], groups: Mapping[str, GroupData]) -> dict[str, str]:
    """Unit group -> its unit code, for every unit group whose code is well-formed."""
    codes = {}
    for draft in drafts:
        code = (_group(groups, draft.group).get("vars") or {}).get("agentroll_unit_code")
        if isinstance(code, str) and UNIT_CODE_PATTERN.fullmatch(code):
            codes[draft.group] = code
    return codes


def _check_duplicate_codes(codes: Mapping[str, str], errors: list[str]) -> None:
    """Two unit groups with one code would merge in standard names and reports."""
    first_group: dict[str, str] = {}
    for group, code in codes.items():
        if code in first_group:
            errors.append(
                f"unit code '{code}' is used by two unit groups: '{first_group[code]}' and '{group}'"
            )
        else:
            first_group[code] = group


def _check_duplicate_addresses(hosts: Sequence[Host], errors: list[str]) -> None:
    """Two inventory entries reaching the same PC would count it twice."""
    first_host: dict[str, str] = {}
    for host in hosts:
        address = (host.address or host.name).lower()
        if address in first_host:
            errors.append(
                f"hosts '{first_host[address]}' and '{host.name}' have the same address '{address}'"
            )
        else:
            first_host[address] = host.name


def load_inventory(path: str | Path) -> Inventory:
    """Load an inventory file or directory with Ansible's own loader and validate it."""
    source = Path(path)
    if not source.exists():
        raise InventoryError(f"inventory '{source}' does not exist")
    groups, hosts = _read_with_ansible(source)
    try:
        return build_inventory(groups, hosts)
    except InventoryError as error:
        # Prefix each problem with the inventory so a multi-district operator sees which one.
        raise InventoryError("\n".join(f"{source}: {line}" for line in str(error).splitlines())) from None


def _read_with_ansible(source: Path) -> tuple[dict[str, GroupData], dict[str, HostData]]:
    """Parse ``source`` with ansible-core and return plain group and host data (toolkit variables only)."""
    # Ansible is imported here only: the rest of the library must work without initialising it.
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    loader = DataLoader()
    _configure_vault(loader)
    try:
        manager = _parse_sources(InventoryManager, loader, source)
        return plain_data_from_ansible(manager, loader, [str(source)])
    except AnsibleError as error:
        raise InventoryError(_describe_ansible_error(source, error)) from None


def plain_data_from_ansible(
    manager: Any, loader: Any, sources: Sequence[str]
) -> tuple[dict[str, GroupData], dict[str, HostData]]:
    """Plain group and host data (toolkit variables only) from an already parsed Ansible inventory.

    For adapters that run inside ``ansible-playbook`` (the callback) and already hold the
    ``InventoryManager`` and ``DataLoader``: ``build_inventory(*plain_data_from_ansible(...))``
    validates the very inventory the play runs on, without parsing it again.
    """
    from ansible.vars.plugins import get_vars_from_inventory_sources

    # group_vars/ and host_vars/ come from vars plugins; with Ansible's default
    # RUN_VARS_PLUGINS=demand they only run at the "task" stage, which is what a play sees.
    groups: dict[str, GroupData] = {}
    for name, group in manager.groups.items():
        merged = dict(group.get_vars())
        merged.update(get_vars_from_inventory_sources(loader, list(sources), [group], "task"))
        groups[name] = {
            "vars": _plain_subset(merged, GROUP_VARS),
            "children": [child.name for child in group.child_groups],
            "hosts": [host.name for host in group.hosts],
        }
    hosts: dict[str, HostData] = {}
    for name, host in manager.hosts.items():
        merged = dict(host.get_vars())
        merged.update(get_vars_from_inventory_sources(loader, list(sources), [host], "task"))
        hosts[name] = _plain_subset(merged, HOST_VARS)
    return groups, hosts


def _describe_ansible_error(source: Path, error: Exception) -> str:
    """One line for an Ansible loading error; a vault error names the encrypted file(s)."""
    message = _first_line(str(error))
    if "vault" not in message.lower():
        return f"inventory '{source}': {message}"
    encrypted = ", ".join(str(path) for path in _vault_encrypted_files(source)) or str(source)
    if os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE"):
        return f"cannot decrypt {encrypted} with ANSIBLE_VAULT_PASSWORD_FILE: {message}"
    return (
        f"{encrypted} is vault-encrypted: set ANSIBLE_VAULT_PASSWORD_FILE, "
        "or encrypt only the secret values (inline !vault strings)"
    )


def _vault_encrypted_files(source: Path) -> list[Path]:
    """Files of the inventory that are whole-file vaults (Ansible's error does not say which)."""
    candidates = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    found = []
    for path in candidates:
        try:
            with path.open("rb") as handle:
                if handle.read(14) == b"$ANSIBLE_VAULT":
                    found.append(path)
        except OSError:
            continue
    return found


def _parse_sources(manager_class: Any, loader: Any, source: Path) -> Any:
    """Parse the inventory; an unparsable source is an error here, not a warning and an empty inventory."""
    from ansible import constants
    from ansible.errors import AnsibleError

    # Ansible's default is to warn and carry on without the file it could not parse; a report
    # would then silently count fewer PCs, so any unparsable source is an error here.
    previous = (constants.INVENTORY_UNPARSED_IS_FAILED, constants.INVENTORY_ANY_UNPARSED_IS_FAILED)
    constants.INVENTORY_UNPARSED_IS_FAILED = constants.INVENTORY_ANY_UNPARSED_IS_FAILED = True
    # Its per-plugin warnings go to stderr as multi-line blocks; keep them to pick the useful line.
    warnings = io.StringIO()
    try:
        with contextlib.redirect_stderr(warnings):
            return manager_class(loader=loader, sources=_inventory_sources(source))
    except AnsibleError as error:
        reason = _parse_failure_reason(warnings.getvalue()) or _first_line(str(error))
        raise InventoryError(f"inventory '{source}' cannot be parsed: {reason}") from None
    finally:
        constants.INVENTORY_UNPARSED_IS_FAILED, constants.INVENTORY_ANY_UNPARSED_IS_FAILED = previous


def _inventory_sources(source: Path) -> list[str]:
    """The files of an inventory directory Ansible would parse, minus agentroll's non-inventory ones."""
    if not source.is_dir():
        return [str(source)]
    from ansible.inventory.manager import IGNORED  # hidden files, group_vars/, *.md, ... (Ansible's rule)

    return [
        str(entry)
        for entry in sorted(source.iterdir())
        if entry.name not in NOT_INVENTORY and not IGNORED.search(os.fsencode(entry.name))
    ]


def _parse_failure_reason(warnings: str) -> str | None:
    """Pick the most telling line of Ansible's parse warnings (YAML's own, for a YAML inventory)."""
    failures = [
        line.removeprefix("[WARNING]:").strip()
        for line in warnings.splitlines()
        if line.startswith("[WARNING]:") and "Failed to parse" in line
    ]
    preferred = [line for line in failures if "'yaml' plugin" in line] if "YAML" in warnings else failures
    reason = (preferred or failures or [None])[0]
    origin = re.search(r"Origin: (\S+:\d+:\d+)", warnings)
    return f"{reason} (at {origin.group(1)})" if reason and origin else reason


def _configure_vault(loader: Any) -> None:
    """Offer the vault password file named by ANSIBLE_VAULT_PASSWORD_FILE, for whole-file vaults."""
    password_file = os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE")
    if not password_file:
        return
    from ansible.parsing.vault import get_file_vault_secret

    if not Path(password_file).is_file():
        raise InventoryError(
            f"vault password file '{password_file}' (ANSIBLE_VAULT_PASSWORD_FILE) does not exist"
        )
    secret = get_file_vault_secret(filename=password_file, loader=loader)
    secret.load()
    loader.set_vault_secrets([("default", secret)])


def _plain_subset(variables: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """Copy only ``keys``, as plain Python values (Ansible hands over tagged str/int subclasses)."""
    result: dict[str, Any] = {}
    for key in keys:
        if key in variables:
            result[key] = _plain(variables[key])
    return result


def _plain(value: Any) -> Any:
    """One value with Ansible's tagged subclasses turned back into plain Python types."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (date, datetime, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _first_line(message: str) -> str:
    """The first non-blank line of a (possibly multi-line) Ansible message."""
    return next((line.strip() for line in message.splitlines() if line.strip()), message)
