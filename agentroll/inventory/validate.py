"""Which groups of an inventory are units, and which hosts belong to them: pure validation of plain data.

``build_inventory(groups, hosts)`` takes group and host variables as plain data and knows nothing of
Ansible (``agentroll.inventory.loader`` reads them with Ansible and hands them over).

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
grouping group above it, else from ``units``, else from ``all``. The district's settings are taken
from ``units``, else from ``all``: the time zone the reports show times in (``agentroll_timezone``,
an IANA name), the days before a deadline from which an unfinished unit is at risk
(``agentroll_deadline_warning_days``), and the written reply's heading and signature
(``agentroll_district``, ``agentroll_reply_*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict

from agentroll.console.settings import VARIABLES as CONSOLE_VARIABLES
from agentroll.console.settings import console_settings
from agentroll.i18n import timezone
from agentroll.model import DEFAULT_DEADLINE_WARNING_DAYS, Host, Inventory, Letter, Unit

UNITS_GROUP = "units"
UNIT_CODE_PATTERN = re.compile(r"[A-Z0-9]{1,8}")
#: C0 and C1 control characters (NUL included): never part of a name, code, owner or address.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
UNIT_VARS = ("agentroll_unit_code", "agentroll_unit_name", "agentroll_licenses")
#: The host variables the toolkit reads; the loader copies only these, so that secrets (and inline
#: vault strings, which ansible-core decrypts lazily) are never touched.
HOST_VARS = ("ansible_host", "agentroll_owner", "agentroll_standard_name", "agentroll_mac")
#: The written reply's heading and signature (``agentroll.model.Letter``), from ``units`` or ``all``.
LETTER_VARS = {
    "district": "agentroll_district",
    "issuer": "agentroll_reply_issuer",
    "reference": "agentroll_reply_reference",
    "signer_title": "agentroll_reply_signer_title",
    "signer_name": "agentroll_reply_signer_name",
}
GROUP_VARS = (
    *UNIT_VARS,
    "agentroll_deadline",
    "agentroll_name_template",
    "agentroll_timezone",
    "agentroll_deadline_warning_days",
    *LETTER_VARS.values(),
    *CONSOLE_VARIABLES,
)


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
    warning_days = _warning_days_of((UNITS_GROUP, "all"), groups, errors)
    letter = _letter_of((UNITS_GROUP, "all"), groups, errors)
    console = console_settings(
        {
            key: found
            for key in CONSOLE_VARIABLES
            if (found := _district_value((UNITS_GROUP, "all"), groups, key))[0]
        },
        errors,
    )
    if errors:
        raise InventoryError("\n".join(dict.fromkeys(errors)))
    return Inventory(
        units=tuple(units),
        hosts=tuple(inventory_hosts),
        deadline=top_deadline,
        name_template=name_template,
        timezone=zone,
        deadline_warning_days=warning_days,
        letter=letter,
        console=console,
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


def _district_value(source: Iterable[str], groups: Mapping[str, GroupData], key: str) -> tuple[str, Any]:
    """The group (``units``, else ``all``) that sets ``key`` and its value; ("", None) when none does."""
    for name in source:
        group_vars = _group(groups, name).get("vars") or {}
        if key in group_vars:
            return name, group_vars[key]
    return "", None


def _warning_days_of(source: Iterable[str], groups: Mapping[str, GroupData], errors: list[str]) -> int:
    """``agentroll_deadline_warning_days``: a whole number of days >= 0, default 7."""
    group, value = _district_value(source, groups, "agentroll_deadline_warning_days")
    if value is None:
        return DEFAULT_DEADLINE_WARNING_DAYS
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    errors.append(
        f"group '{group}': agentroll_deadline_warning_days {value!r} is not a whole number of days (>= 0)"
    )
    return DEFAULT_DEADLINE_WARNING_DAYS


def _letter_of(source: Sequence[str], groups: Mapping[str, GroupData], errors: list[str]) -> Letter:
    """The written reply's heading and signature: one line of text each (the title may have several)."""
    fields: dict[str, str | None] = {}
    for field_name, key in LETTER_VARS.items():
        group, value = _district_value(source, groups, key)
        fields[field_name] = None
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            errors.append(f"group '{group}': {key} {value!r} is not text")
            continue
        # A title may run over two lines ("KT. CHỦ TỊCH" / "PHÓ CHỦ TỊCH"); nothing else may.
        checked = value.strip().replace("\n", " ") if field_name == "signer_title" else value
        if found := CONTROL_CHARACTER.search(checked):
            errors.append(f"group '{group}': {key} holds the control character U+{ord(found.group()):04X}")
            continue
        fields[field_name] = value.strip()
    return Letter(**fields)


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
