"""Import the district's roster (who has which PC, and each unit's licenses) into an inventory directory.

The roster is what the district office already keeps in a spreadsheet: a ``units`` table (code,
name, licenses, optional deadline) and a ``pcs`` table (unit, address, optional owner, MAC and
hostname). Either two CSV files (UTF-8, with or without a byte-order mark, as Excel's "CSV UTF-8"
writes them) or an XLSX workbook with sheets ``units`` and ``pcs``.

Every row is checked before anything is written; problems are reported all at once, one a line,
as ``pcs.csv row 7: unknown unit 'XYZ'`` where the row number is the spreadsheet's (the header is
row 1), so the clerk can find it in Excel.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from agentroll.agent_profile import PLACEHOLDER
from agentroll.cells import cell_text
from agentroll.inventory import CONTROL_CHARACTER, UNIT_CODE_PATTERN
from agentroll.mac import MAC_PATTERN, normalize_mac
from agentroll.report import write_atomic

UNIT_COLUMNS = ("code", "name", "licenses")
UNIT_OPTIONAL_COLUMNS = ("deadline",)
PC_COLUMNS = ("unit", "address")
PC_OPTIONAL_COLUMNS = ("owner", "mac", "hostname")

_HOSTNAME_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62})")
_DNS_NAME_PATTERN = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)


class RosterError(ValueError):
    """The roster has problems; the message lists every one, a line each, naming file and row."""


@dataclass(frozen=True)
class Table:
    """The rows of one CSV file or worksheet, keyed by lower-cased header, with spreadsheet row numbers."""

    label: str
    columns: tuple[str, ...]
    rows: tuple[tuple[int, Mapping[str, Any]], ...]


@dataclass(frozen=True)
class RosterUnit:
    """One valid row of the units table."""

    code: str
    name: str
    licenses: int
    deadline: date | None
    row: int


@dataclass(frozen=True)
class RosterPC:
    """One valid row of the PCs table, with its (given or generated) inventory hostname."""

    unit: str
    address: str
    hostname: str
    owner: str | None
    mac: str | None
    row: int


@dataclass(frozen=True)
class ImportResult:
    """Where the inventory was written and how many units and PCs it holds."""

    output: Path
    units: int
    pcs: int
    #: Settings files that already existed and were kept as the user left them.
    kept: tuple[Path, ...] = ()


# --- reading ------------------------------------------------------------------------------------


def read_csv(path: Path) -> Table:
    """Read a CSV roster table (comma, semicolon or tab separated; UTF-8 with or without BOM)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path.name}: not UTF-8 text; save it from Excel as 'CSV UTF-8'") from None
    if not text.strip():
        raise RosterError(f"{path.name}: the file is empty")
    # Not str.splitlines(): it also breaks rows at U+0085, U+2028 and other characters inside cells.
    first_line = text.split("\n", 1)[0]
    try:
        dialect: Any = csv.Sniffer().sniff(first_line, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # a one-column header gives the sniffer nothing to go on
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader)
    return _table(path.name, header, ((number, row) for number, row in enumerate(reader, start=2)))


def read_sheet(path: Path, sheet: str) -> Table:
    """Read one worksheet of an XLSX roster; the first row is the header."""
    import openpyxl  # only XLSX rosters need it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise RosterError(f"{path}: file not found") from None
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise RosterError(f"{path.name}: not a readable XLSX workbook ({error})") from None
    try:
        if sheet not in workbook.sheetnames:
            names = ", ".join(workbook.sheetnames)
            raise RosterError(f"{path.name}: no sheet named '{sheet}' (it has: {names})")
        rows = workbook[sheet].iter_rows(values_only=True)
        header = [cell_text(cell) or "" for cell in next(rows, ())]
        return _table(f"{path.name} sheet {sheet}", header, enumerate(rows, start=2))
    finally:
        workbook.close()


def read_table(path: Path, sheet: str) -> Table:
    """A CSV file, or the sheet ``sheet`` of an XLSX workbook, by file extension."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_sheet(path, sheet)
    return read_csv(path)


def _table(label: str, header: Sequence[Any], rows: Iterable[tuple[int, Sequence[Any]]]) -> Table:
    """Key each row by the lower-cased header; skip blank rows, keep spreadsheet row numbers."""
    columns = tuple((cell_text(name) or "").strip().lower() for name in header)
    records = []
    for number, cells in rows:
        if all(cell_text(cell) is None for cell in cells):
            continue  # blank lines are common at the end of a spreadsheet
        records.append((number, dict(zip(columns, cells, strict=False))))
    return Table(label=label, columns=columns, rows=tuple(records))


# --- the sample workbook -----------------------------------------------------------------------

#: The sample workbook's document times: fixed, so that making it again changes nothing in it.
_SAMPLE_TIME = datetime(2026, 1, 1)


def workbook_from_csv(units_csv: Path, pcs_csv: Path, output: Path) -> None:
    """Write the XLSX form of a CSV roster (sheets ``units`` and ``pcs``): licenses as numbers,
    deadlines as date cells, everything else as text. ``inventory/example/roster/roster.xlsx`` is
    made this way from the CSVs beside it (``scripts/make-example-roster``)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet, path in (("units", units_csv), ("pcs", pcs_csv)):
        table = read_csv(Path(path))
        worksheet = workbook.create_sheet(sheet)
        worksheet.append(list(table.columns))
        for _, row in table.rows:
            worksheet.append([_sample_cell(column, row.get(column)) for column in table.columns])
            if "deadline" in table.columns:
                worksheet.cell(
                    worksheet.max_row, table.columns.index("deadline") + 1
                ).number_format = "yyyy-mm-dd"
    workbook.properties.creator = "agentroll"
    workbook.properties.created = workbook.properties.modified = _SAMPLE_TIME
    workbook.save(output)


def _sample_cell(column: str, value: Any) -> Any:
    text = cell_text(value)
    if text is None:
        return None
    if column == "licenses" and text.isdigit():
        return int(text)
    if column == "deadline":
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    return text


# --- validation ---------------------------------------------------------------------------------


def _cells_are_clean(row: Mapping[str, Any], where: str, errors: list[str]) -> bool:
    """Record every cell holding a control character (a NUL byte, say); tell whether there was none."""
    clean = True
    for column, value in row.items():
        text = cell_text(value)
        if text is not None and (found := CONTROL_CHARACTER.search(text)):
            code_point = f"U+{ord(found.group()):04X}"
            errors.append(f"{where}: column '{column}' holds the control character {code_point}")
            clean = False
    return clean


def _unit_code(value: Any) -> str:
    """A unit code in upper case; non-ASCII text is kept as written so that the pattern refuses it.

    Upper-casing first would turn a German "ß" into a valid-looking "SS".
    """
    text = cell_text(value) or ""
    return text.upper() if text.isascii() else text


def _check_columns(table: Table, required: Sequence[str], errors: list[str]) -> bool:
    """Record each missing required column; tell whether the table is usable."""
    missing = [column for column in required if column not in table.columns]
    for column in missing:
        errors.append(f"{table.label}: missing required column '{column}'")
    return not missing


def parse_units(table: Table, errors: list[str]) -> list[RosterUnit]:
    """Validate the units table; problems go to ``errors``."""
    if not _check_columns(table, UNIT_COLUMNS, errors):
        return []
    units: list[RosterUnit] = []
    first_row: dict[str, int] = {}
    for number, row in table.rows:
        where = f"{table.label} row {number}"
        if not _cells_are_clean(row, where, errors):
            continue
        code = _unit_code(row.get("code"))
        name = cell_text(row.get("name"))
        licenses = _parse_licenses(row.get("licenses"), where, errors)
        deadline = _parse_deadline(row.get("deadline"), where, errors)
        if not UNIT_CODE_PATTERN.fullmatch(code):
            errors.append(f"{where}: unit code '{code}' is not 1 to 8 letters A-Z or digits")
            continue
        if code in first_row:
            errors.append(f"{where}: unit code '{code}' already used in row {first_row[code]}")
            continue
        first_row[code] = number
        if name is None:
            errors.append(f"{where}: unit '{code}' has no name")
        if licenses is not None and name is not None:
            units.append(RosterUnit(code=code, name=name, licenses=licenses, deadline=deadline, row=number))
    return units


def _parse_licenses(value: Any, where: str, errors: list[str]) -> int | None:
    """A non-negative integer count, or None after recording the problem."""
    text = cell_text(value)
    # str.isdigit() also accepts "²" and other digits int() refuses.
    if text is not None and text.isascii() and text.isdigit():
        return int(text)
    errors.append(f"{where}: licenses '{text or ''}' is not a non-negative integer")
    return None


def _parse_deadline(value: Any, where: str, errors: list[str]) -> date | None:
    """An optional deadline: an XLSX date cell or ``YYYY-MM-DD`` text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{where}: deadline '{text}' is not a date (YYYY-MM-DD)")
        return None


def declared_codes(table: Table) -> set[str]:
    """Unit codes the units table declares, even on rows with other problems.

    A PC of a unit whose row has a bad license count is not also an "unknown unit".
    """
    return {code for _, row in table.rows if (code := _unit_code(row.get("code")))}


def parse_pcs(table: Table, known_units: set[str], errors: list[str]) -> list[RosterPC]:
    """Validate the PCs table against the declared unit codes; generate missing inventory hostnames."""
    if not _check_columns(table, PC_COLUMNS, errors):
        return []
    drafts: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, dict[str, int]] = {"address": {}, "mac": {}, "hostname": {}}  # value -> first row
    for number, row in table.rows:
        where = f"{table.label} row {number}"
        fields = _pc_fields(row, where, known_units, errors)
        if fields is None:
            continue
        for key, label in (("address", "address"), ("mac", "MAC"), ("hostname", "hostname")):
            value = fields.get(key)
            if value is None:
                continue
            first = seen[key].setdefault(value.lower(), number)
            if first != number:
                errors.append(f"{where}: duplicate {label} '{value}' (also in row {first})")
        drafts.append((number, fields))
    return _with_hostnames(drafts, set(seen["hostname"]))


def _pc_fields(
    row: Mapping[str, Any], where: str, known_units: set[str], errors: list[str]
) -> dict[str, Any] | None:
    """One PC row's cleaned fields, or None when a required one is unusable."""
    count_before = len(errors)
    if not _cells_are_clean(row, where, errors):
        return None
    unit = _unit_code(row.get("unit"))
    if not unit:
        errors.append(f"{where}: unit is empty")
    elif unit not in known_units:
        errors.append(f"{where}: unknown unit '{unit}'")
    address = cell_text(row.get("address"))
    if address is None:
        errors.append(f"{where}: address is empty")
    elif not _is_address(address):
        errors.append(f"{where}: address '{address}' is not an IP address or host name")
    mac = cell_text(row.get("mac"))
    if mac is not None:
        if MAC_PATTERN.fullmatch(mac):
            mac = normalize_mac(mac)
        else:
            errors.append(f"{where}: MAC '{mac}' is not a MAC address (like 00-1A-2B-3C-4D-5E)")
    hostname = cell_text(row.get("hostname"))
    if hostname is not None and not _HOSTNAME_PATTERN.fullmatch(hostname):
        errors.append(f"{where}: hostname '{hostname}' may use only letters, digits, '.', '_' and '-'")
    if len(errors) > count_before:
        return None
    return {
        "unit": unit,
        "address": address,
        "owner": cell_text(row.get("owner")),
        "mac": mac,
        "hostname": hostname,
    }


def _is_address(text: str) -> bool:
    """An IPv4/IPv6 address or a DNS host name (not a bare number)."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return bool(_DNS_NAME_PATTERN.fullmatch(text)) and not text.replace(".", "").isdigit()


def _with_hostnames(drafts: Sequence[tuple[int, Mapping[str, Any]]], taken: set[str]) -> list[RosterPC]:
    """Give PCs without a hostname ``<unit code lower>-<nn>``, numbered in roster order per unit."""
    counters: dict[str, int] = {}
    pcs = []
    width = 2 if len(drafts) < 100 else 3
    for number, fields in drafts:
        hostname = fields["hostname"]
        if hostname is None:
            while True:
                counters[fields["unit"]] = counters.get(fields["unit"], 0) + 1
                hostname = f"{fields['unit'].lower()}-{counters[fields['unit']]:0{width}d}"
                if hostname.lower() not in taken:
                    break
            taken.add(hostname.lower())
        pcs.append(
            RosterPC(
                unit=fields["unit"],
                address=fields["address"],
                hostname=hostname,
                owner=fields["owner"],
                mac=fields["mac"],
                row=number,
            )
        )
    return pcs


# --- writing ------------------------------------------------------------------------------------


def unit_group_name(code: str) -> str:
    """The Ansible group of a unit (group names allow only letters, digits and ``_``)."""
    return f"unit_{code.lower()}"


def render_hosts_yml(units: Sequence[RosterUnit], pcs: Sequence[RosterPC], sources: Sequence[str]) -> str:
    """The inventory's hosts.yml: one group per unit under ``units``, its PCs as hosts."""
    unit_groups: dict[str, Any] = {}
    for unit in units:
        unit_vars: dict[str, Any] = {
            "agentroll_unit_code": unit.code,
            "agentroll_unit_name": unit.name,
            "agentroll_licenses": unit.licenses,
        }
        if unit.deadline:
            unit_vars["agentroll_deadline"] = unit.deadline.isoformat()
        hosts: dict[str, Any] = {}
        for pc in pcs:
            if pc.unit == unit.code:
                host_vars = {"ansible_host": pc.address, "agentroll_owner": pc.owner, "agentroll_mac": pc.mac}
                hosts[pc.hostname] = {key: value for key, value in host_vars.items() if value is not None}
        group: dict[str, Any] = {"vars": unit_vars}
        if hosts:
            group["hosts"] = hosts
        unit_groups[unit_group_name(unit.code)] = group
    document = {"all": {"children": {"units": {"children": unit_groups}}}}
    header = (
        f"# Generated by 'agentroll roster import' from {', '.join(sources)}.\n"
        "# Units are the groups under 'units'; edit the roster and import again rather than by hand.\n"
    )
    return header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)


CONNECTION_YML = f"""\
# WinRM connection settings for every PC of this inventory (the safe default of inventory/example/:
# HTTPS with the certificate checked, NTLM). Preflight refuses Basic over plain HTTP and an
# unchecked certificate unless agentroll_allow_insecure_transport is true.
# No secrets in this file. Put the WinRM password in group_vars/all/vault.yml as an inline vault
# string, so that reading the inventory never needs the vault password:
#   ansible-vault encrypt_string --name ansible_password 'the-password' >> group_vars/all/vault.yml
# See inventory/example/ for the full template. 'agentroll roster import --force' keeps this file.
ansible_connection: winrm
ansible_user: {PLACEHOLDER}  # a local or domain account in the PCs' Administrators group
ansible_port: 5986
ansible_winrm_scheme: https
ansible_winrm_transport: ntlm
ansible_winrm_server_cert_validation: validate
# The certificate authority the PCs' WinRM certificates chain to, unless the controller already
# trusts it (the folder certificates/ is not an inventory source):
# ansible_winrm_ca_trust_path: "{{{{ inventory_dir }}}}/certificates/district-ca.pem"
"""

AGENT_YML = f"""\
# The agent profile: what to install and how to tell it runs. Fill in every {PLACEHOLDER} from the
# vendor's deployment guide: until then preflight and site.yml stop before any PC is touched.
# Every variable: roles/agent/meta/argument_specs.yml; a commented example:
# inventory/example/group_vars/all/agent.yml. 'agentroll roster import --force' keeps this file.
agentroll_agent_display_name: {PLACEHOLDER}      # as Programs and Features shows it
agentroll_agent_installer: {PLACEHOLDER}         # a controller path or an https:// URL
agentroll_agent_installer_sha256: {PLACEHOLDER}  # sha256sum of the installer, as the vendor publishes it
agentroll_agent_product_id: {PLACEHOLDER}        # the MSI ProductCode ("" if only the service is known)
agentroll_agent_service_name: {PLACEHOLDER}      # the Windows service ("" if only the product id is known)
agentroll_agent_server: {PLACEHOLDER}            # the management server, host:port
# Installer arguments: a registration key is a secret, so set agentroll_agent_install_arguments
# in group_vars/all/vault.yml (see inventory/example/group_vars/all/vault.yml.example).
"""

#: Files the import writes once and then leaves to the user (relative to the inventory).
SETTINGS_FILES = {
    Path("group_vars") / "all" / "connection.yml": CONNECTION_YML,
    Path("group_vars") / "all" / "agent.yml": AGENT_YML,
}


def _ensure_writable(output: Path, force: bool) -> None:
    """Refuse to write over a file or into a non-empty directory without ``force``."""
    if output.exists() and not output.is_dir():
        raise RosterError(f"{output}: exists and is not a directory")
    if output.is_dir() and any(output.iterdir()) and not force:
        raise RosterError(f"{output}: directory is not empty; use --force to overwrite its inventory files")


def import_roster(
    units_path: Path,
    pcs_path: Path,
    output: Path,
    *,
    force: bool = False,
) -> ImportResult:
    """Validate the roster and write the inventory directory; on any problem write nothing.

    ``hosts.yml`` is generated from the roster (again with ``force``); the settings files
    (``SETTINGS_FILES``: connection, agent profile) are written only where they do not exist yet,
    so that a new import never resets what the user filled in.

    ``units_path`` and ``pcs_path`` may be the same XLSX workbook (sheets ``units`` and ``pcs``).
    """
    units_path, pcs_path, output = Path(units_path), Path(pcs_path), Path(output)
    _ensure_writable(output, force)
    errors: list[str] = []
    units_table = read_table(units_path, "units")
    pcs_table = read_table(pcs_path, "pcs")
    units = parse_units(units_table, errors)
    if not _check_columns(units_table, UNIT_COLUMNS, []):
        # Without a units table every PC row would also be an "unknown unit": report the cause only.
        _check_columns(pcs_table, PC_COLUMNS, errors)
        raise RosterError("\n".join(errors))
    pcs = parse_pcs(pcs_table, declared_codes(units_table), errors)
    if errors:
        raise RosterError("\n".join(errors))
    sources = list(dict.fromkeys([units_path.name, pcs_path.name]))
    write_atomic(output / "hosts.yml", render_hosts_yml(units, pcs, sources))
    kept = []
    for relative, text in SETTINGS_FILES.items():
        target = output / relative
        if target.exists():
            kept.append(target)
        else:
            write_atomic(target, text)
    return ImportResult(output=output, units=len(units), pcs=len(pcs), kept=tuple(kept))
