"""Read an inventory with Ansible's own machinery: the one part of the library that imports Ansible.

Ansible parses the file or directory (INI/YAML, ``group_vars/``, ``host_vars/``, inline vault
strings); only the toolkit's variables are copied out, as plain data, for
``agentroll.inventory.validate.build_inventory``. Ansible is imported inside the functions, so that
importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from agentroll.inventory.validate import (
    GROUP_VARS,
    HOST_VARS,
    GroupData,
    HostData,
    InventoryError,
    build_inventory,
)
from agentroll.model import Inventory

#: Entries agentroll keeps inside an inventory directory that are not inventory sources: the roster
#: spreadsheet the inventory was imported from, the central console's exports (``console/``), the
#: certificate authorities the PCs' WinRM certificates chain to (``certificates/``), and the
#: simulated fleet standing for its PCs.
#: (ansible.cfg should list them in ``[inventory] ignore_patterns`` for ansible-playbook, too.)
NOT_INVENTORY = frozenset({"roster", "fleet.yml", "console", "certificates"})


def load_inventory(path: str | Path) -> Inventory:
    """Load an inventory file or directory with Ansible's own loader and validate it."""
    source = Path(path)
    if not source.exists():
        raise InventoryError(f"inventory '{source}' does not exist")
    return _built(source, *_read_with_ansible(source))


def inventory_from_ansible(manager: Any, loader: Any, sources: Sequence[str]) -> Inventory:
    """The toolkit's inventory from one Ansible has already parsed (``load_inventory`` without the parse).

    For adapters inside ``ansible-playbook`` (the coverage callback), which hold the very
    ``InventoryManager`` and ``DataLoader`` the play runs on: parsing the files again costs more
    than all the rest of a report of a few hundred PCs. Errors name ``sources`` as
    ``load_inventory``'s name its path.
    """
    from ansible.errors import AnsibleError

    label = ", ".join(sources)
    try:
        groups, hosts = plain_data_from_ansible(manager, loader, sources)
    except AnsibleError as error:
        raise InventoryError(_describe_ansible_error(Path(label), error)) from None
    return _built(label, groups, hosts)


def _built(source: str | Path, groups: dict[str, GroupData], hosts: dict[str, HostData]) -> Inventory:
    try:
        return build_inventory(groups, hosts)
    except InventoryError as error:
        # Prefix each problem with the inventory so a multi-district operator sees which one.
        raise InventoryError("\n".join(f"{source}: {line}" for line in str(error).splitlines())) from None


def host_variables(path: str | Path, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per host of the inventory, the variables ``keys`` as Ansible gives them to the host.

    Group and host variables are merged by Ansible's own precedence (``all``, parent groups, child
    groups, the host), so what is returned is what a play would see. Only ``keys`` are read: name a
    secret (``ansible_password``) only to compare it, never to show it.
    """
    from ansible.errors import AnsibleError
    from ansible.vars.manager import VariableManager

    source = Path(path)
    if not source.exists():
        raise InventoryError(f"inventory '{source}' does not exist")
    wanted = tuple(keys)
    with _parsed(source) as (manager, loader):
        variables = VariableManager(loader=loader, inventory=manager)
        try:
            return {
                name: _plain_subset(variables.get_vars(host=host, include_hostvars=False), wanted)
                for name, host in manager.hosts.items()
            }
        except AnsibleError as error:
            raise InventoryError(_describe_ansible_error(source, error)) from None


def _read_with_ansible(source: Path) -> tuple[dict[str, GroupData], dict[str, HostData]]:
    """Parse ``source`` with ansible-core and return plain group and host data (toolkit variables only)."""
    from ansible.errors import AnsibleError

    with _parsed(source) as (manager, loader):
        try:
            return plain_data_from_ansible(manager, loader, [str(source)])
        except AnsibleError as error:
            raise InventoryError(_describe_ansible_error(source, error)) from None


@contextlib.contextmanager
def _parsed(source: Path) -> Iterator[tuple[Any, Any]]:
    """Ansible's ``InventoryManager`` and ``DataLoader`` for ``source`` (its errors: ``InventoryError``)."""
    # Ansible is imported here only: the rest of the library must work without initialising it.
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    loader = DataLoader()
    _configure_vault(loader)
    try:
        manager = _parse_sources(InventoryManager, loader, source)
    except AnsibleError as error:
        raise InventoryError(_describe_ansible_error(source, error)) from None
    yield manager, loader


def plain_data_from_ansible(
    manager: Any, loader: Any, sources: Sequence[str]
) -> tuple[dict[str, GroupData], dict[str, HostData]]:
    """Plain group and host data (toolkit variables only) from an already parsed Ansible inventory.

    For adapters that run inside ``ansible-playbook`` (the callback) and already hold the
    ``InventoryManager`` and ``DataLoader``: ``build_inventory(*plain_data_from_ansible(...))``
    validates the very inventory the play runs on, without parsing it again.
    """
    from ansible.vars.plugins import get_vars_from_inventory_sources

    # group_vars/ and host_vars/ come from vars plugins: at the "inventory" stage they are already in
    # the group's variables (RUN_VARS_PLUGINS=start, the toolkit's ansible.cfg); with Ansible's
    # default (demand) they only run at the "task" stage, which is what a play sees.
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
        if "vault" in _first_line(str(error)).lower():
            # group_vars/ and host_vars/ are read while the inventory loads (RUN_VARS_PLUGINS=start).
            raise InventoryError(_describe_ansible_error(source, error)) from None
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
