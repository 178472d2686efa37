"""``agentroll bundle``: the offline kit of one unit, for PCs the controller cannot reach at all.

The kit is a folder (a USB stick, a share) that a person carries to the PC and double-clicks::

    Install-Agent.cmd            starts Install-Agent.ps1 (Windows PowerShell 5.1, as administrator)
    Install-Agent.ps1            checks the PC, installs, renames, writes a receipt
    kit.json                     the data the script goes by (format agentroll.kit/1, below)
    installer/<file>             the agent's installer, and <file>.sha256 (as sha256sum writes it)
    receipts/                    where the script writes its receipts (agentroll receipts import)
    README.txt                   what to do, in Vietnamese and English

``kit.json``: ``format``, ``created_at`` (UTC), ``unit`` (``code``, ``name``), ``agent`` (``display_name``,
``product_id``, ``service_name``, ``installer`` (path in the kit), ``sha256``, ``install_arguments``,
``expected_return_codes``), ``requirements`` (the agent profile's, as the inventory has them),
``os_families`` (how a build and product type make an OS family: ``eligibility.family_first_builds``)
and ``pcs``: one ``{mac, host, standard_name, owner}`` per PC of the unit that has a MAC address.

The install arguments may carry the agent's registration key: they go into the kit only when asked
(``include_install_arguments``), because the kit then holds a secret and must be kept like one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from agentroll.agent_profile import is_sample_agent, unfilled
from agentroll.eligibility import Requirements, family_first_builds
from agentroll.inventory import host_variables, load_inventory
from agentroll.mac import normalize_mac
from agentroll.model import Inventory
from agentroll.naming import standard_names

KIT_FORMAT = "agentroll.kit/1"
KIT_FILES = Path(__file__).parent / "kit_files"
SCRIPT_FILES = ("Install-Agent.cmd", "Install-Agent.ps1")
#: The agent role of the checkout (or collection) this package sits in: its defaults are the profile
#: an inventory does not override, and its files directory where a relative installer is looked up.
AGENT_ROLE = Path(__file__).resolve().parents[1] / "roles" / "agent"
PROFILE_VARIABLES = (
    "agentroll_agent_display_name",
    "agentroll_agent_installer",
    "agentroll_agent_installer_sha256",
    "agentroll_agent_product_id",
    "agentroll_agent_service_name",
    "agentroll_agent_install_arguments",
    "agentroll_agent_expected_return_codes",
    "agentroll_agent_requirements",
    "agentroll_agent_server",
)

README = """\
BỘ CÀI ĐẶT NGOẠI TUYẾN - {unit_name} ({unit_code})

Dùng cho máy tính mà bộ phận CNTT không kết nối được qua mạng.
1. Cắm USB (hoặc mở thư mục chia sẻ) trên máy tính cần cài.
2. Nhấp đúp Install-Agent.cmd, chọn "Yes" khi Windows hỏi quyền quản trị.
3. Chương trình kiểm tra máy, cài phần mềm giám sát, đổi tên máy theo chuẩn và ghi biên nhận
   vào thư mục receipts. Khởi động lại máy khi được hỏi.
4. Trả bộ cài cho bộ phận CNTT (biên nhận nằm trong thư mục receipts).
Máy không có trong danh sách hoặc không đủ cấu hình thì không bị thay đổi gì.

OFFLINE KIT - {unit_name} ({unit_code})

For a PC the IT team cannot reach over the network.
1. Plug the USB stick in (or open the share) on the PC.
2. Double-click Install-Agent.cmd and answer "Yes" when Windows asks for an administrator.
3. It checks the PC, installs the monitoring agent, renames the PC to its standard name and writes
   a receipt into the receipts folder. Restart the PC when it asks.
4. Give the kit back to the IT team (the receipts are in the receipts folder).
A PC that is not in the kit's list, or is below the agent's requirements, is left unchanged.

{pcs} PCs in this kit; made {created_at} by agentroll bundle.
"""


class BundleError(Exception):
    """The kit cannot be made as asked; one line for the operator."""


@dataclass(frozen=True)
class AgentProfile:
    """The agent profile: ``roles/agent/defaults/main.yml`` as the inventory overrides it."""

    display_name: str
    installer: str
    installer_sha256: str
    product_id: str
    service_name: str
    install_arguments: str
    expected_return_codes: tuple[int, ...]
    requirements: Mapping[str, Any]

    @classmethod
    def from_variables(cls, variables: Mapping[str, Any]) -> AgentProfile:
        """From the profile variables; a missing or malformed one raises BundleError naming it."""
        missing = [name for name in PROFILE_VARIABLES if name not in variables]
        if missing:
            raise BundleError(f"the agent profile has no {missing[0]} (group_vars/all/agent.yml)")
        placeholders = unfilled(variables)
        if placeholders:
            raise BundleError(
                f"agent profile: fill in {', '.join(placeholders)} in the inventory's "
                "group_vars/all/agent.yml (they still say CHANGE-ME)"
            )
        try:
            Requirements.from_mapping(variables["agentroll_agent_requirements"])
        except ValueError as error:
            raise BundleError(f"agentroll_agent_requirements: {error}") from None
        return cls(
            display_name=str(variables["agentroll_agent_display_name"]),
            installer=str(variables["agentroll_agent_installer"]),
            installer_sha256=str(variables["agentroll_agent_installer_sha256"]).lower(),
            product_id=str(variables["agentroll_agent_product_id"] or ""),
            service_name=str(variables["agentroll_agent_service_name"] or ""),
            install_arguments=str(variables["agentroll_agent_install_arguments"] or ""),
            expected_return_codes=tuple(
                int(code) for code in variables["agentroll_agent_expected_return_codes"]
            ),
            requirements=dict(variables["agentroll_agent_requirements"]),
        )


@dataclass(frozen=True)
class Kit:
    """What ``write_kit`` wrote."""

    directory: Path
    unit: str
    pcs: int
    #: PCs of the unit without a MAC address in the inventory: the kit cannot recognise them.
    without_mac: tuple[str, ...]
    installer: Path


def agent_profiles(inventory_path: Path, hosts: Sequence[str]) -> dict[str, AgentProfile]:
    """The agent profile each of ``hosts`` gets from the inventory, over the agent role's defaults."""
    defaults = _role_defaults()
    variables = host_variables(inventory_path, PROFILE_VARIABLES)
    return {host: AgentProfile.from_variables({**defaults, **variables.get(host, {})}) for host in hosts}


def agent_profile(inventory_path: Path, hosts: Sequence[str]) -> AgentProfile:
    """The one agent profile ``hosts`` share (a kit installs one agent the one way)."""
    profiles = list(agent_profiles(inventory_path, hosts).values())
    if any(profile != profiles[0] for profile in profiles):
        raise BundleError(f"the agent profile differs between the PCs of the unit ({', '.join(hosts)})")
    return profiles[0]


def write_kit(
    inventory_path: Path,
    unit_code: str,
    output: Path,
    *,
    installer: Path | None = None,
    include_install_arguments: bool = False,
    simulated: bool = False,
    template: str | None = None,
    now: datetime | None = None,
) -> Kit:
    """Write the offline kit of unit ``unit_code`` into ``output`` (a new or empty folder).

    The toolkit's sample agent goes into a kit only when it is for the simulated fleet
    (``simulated``: the demo's); a profile still holding ``roster import``'s placeholders never does.
    """
    inventory = load_inventory(inventory_path)
    unit = _unit(inventory, unit_code)
    hosts = inventory.hosts_of(unit.code)
    if not hosts:
        raise BundleError(f"unit {unit.code} has no PC in {inventory_path}")
    profile = agent_profile(inventory_path, [host.name for host in hosts])
    if profile.install_arguments and not include_install_arguments:
        raise BundleError(
            "the agent's install arguments may hold its registration key: give --include-install-arguments "
            "to put them into the kit (then keep the kit as safe as the key)"
        )
    source = installer or _installer_path(profile.installer, inventory_path)
    digest = _sha256(source)
    if digest != profile.installer_sha256:
        raise BundleError(
            f"{source} has SHA-256 {digest}, the agent profile expects {profile.installer_sha256}"
        )
    if is_sample_agent(digest) and not simulated:
        raise BundleError(
            f"{source} is the toolkit's sample simulated agent, not the district's: fill in the agent "
            "profile (group_vars/all/agent.yml), or give --simulated for a kit of the simulated fleet"
        )
    names = standard_names(inventory, template)
    table, without_mac = [], []
    for host in hosts:
        if not host.mac:
            without_mac.append(host.name)
            continue
        try:
            mac = normalize_mac(host.mac)
        except ValueError as error:
            raise BundleError(f"host '{host.name}': agentroll_mac: {error}") from None
        table.append({"mac": mac, "host": host.name, "standard_name": names[host.name], "owner": host.owner})
    if not table:
        raise BundleError(
            f"no PC of unit {unit.code} has a MAC address (agentroll_mac): the kit could not tell them apart"
        )
    created_at = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    kit = {
        "format": KIT_FORMAT,
        "created_at": created_at,
        "unit": {"code": unit.code, "name": unit.name},
        "agent": {
            "display_name": profile.display_name,
            "product_id": profile.product_id,
            "service_name": profile.service_name,
            "installer": f"installer/{source.name}",
            "sha256": digest,
            "install_arguments": profile.install_arguments,
            "expected_return_codes": list(profile.expected_return_codes),
        },
        "requirements": profile.requirements,
        "os_families": family_first_builds(),
        "pcs": table,
    }
    _prepare(output)
    (output / "installer").mkdir()
    (output / "receipts").mkdir()
    shutil.copyfile(source, output / "installer" / source.name)
    (output / "installer" / f"{source.name}.sha256").write_text(
        f"{digest}  {source.name}\n", encoding="utf-8"
    )
    for name in SCRIPT_FILES:
        shutil.copyfile(KIT_FILES / name, output / name)
    (output / "kit.json").write_text(json.dumps(kit, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    readme = README.format(unit_name=unit.name, unit_code=unit.code, pcs=len(table), created_at=created_at)
    # Notepad on older Windows wants CRLF; the BOM tells it the text is UTF-8 (Vietnamese).
    (output / "README.txt").write_bytes(readme.replace("\n", "\r\n").encode("utf-8-sig"))
    return Kit(output, unit.code, len(table), tuple(without_mac), source)


def _unit(inventory: Inventory, code: str) -> Any:
    try:
        return inventory.unit(code.upper())
    except KeyError:
        known = ", ".join(unit.code for unit in inventory.units)
        raise BundleError(f"no unit {code!r} in the inventory (units: {known})") from None


def _role_defaults() -> dict[str, Any]:
    """The agent role's defaults, when this package sits in a checkout or collection that has the role."""
    path = AGENT_ROLE / "defaults" / "main.yml"
    if not path.is_file():
        return {}
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def _installer_path(installer: str, inventory_path: Path) -> Path:
    """The installer file: absolute, or beside the inventory, or in the agent role's files."""
    if "://" in installer:
        raise BundleError(
            f"the installer is a URL ({installer}): download it and give --installer FILE, "
            "the kit carries the file itself"
        )
    inventory_dir = inventory_path if inventory_path.is_dir() else inventory_path.parent
    for candidate in (Path(installer), inventory_dir / installer, AGENT_ROLE / "files" / installer):
        if candidate.is_file():
            return candidate
    raise BundleError(f"the installer {installer} is neither a file nor in {inventory_dir} or the agent role")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prepare(output: Path) -> None:
    """``output`` exists and is empty, or is created; a folder with something in it is refused."""
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise BundleError(f"{output} is not an empty folder: the kit goes into a new or empty one")
    output.mkdir(parents=True, exist_ok=True)
