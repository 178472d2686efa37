"""Install the Ansible collections the toolkit needs into ``collections/`` of a checkout.

Galaxy is often unreachable from district networks (and from our CI), while the Python package
index is not. The ``ansible`` community package on the index carries ansible.windows and
community.general (whose ``wakeonlan`` module sends the magic packets of Wake-on-LAN), so we fetch
that one wheel without its dependencies, check its SHA-256, and unpack only the collections we pin
(15 MB, about two seconds), instead of installing all ~100 collections (~440 MB). Galaxy and AWX
users use ``collections/requirements.yml``.

The checkout itself is the ``agentroll.toolkit`` collection; a relative symlink makes it resolvable
by its fully qualified name from ``collections/``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ANSIBLE_WHEEL = "ansible==14.5.0"
ANSIBLE_WHEEL_SHA256 = "245623ccc2d31d0f6f4bdb63168d550cad305fb032cc43d96e8f61ce8ab0ba84"
PINNED_COLLECTIONS = {
    "ansible.windows": "3.8.0",
    "community.general": "13.5.0",
    # community.general's one dependency: Galaxy (AWX's project sync) refuses it without this one.
    "community.library_inventory_filtering_v1": "1.1.5",
}
OWN_COLLECTION = ("agentroll", "toolkit")


def installed_version(collections_root: Path, fqcn: str) -> str | None:
    """Return the version recorded in an unpacked collection's MANIFEST.json, if any."""
    namespace, name = fqcn.split(".")
    manifest = collections_root / namespace / name / "MANIFEST.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"]


def download_wheel(destination: Path) -> Path:
    """Download the pinned ``ansible`` wheel (no dependencies) and check its SHA-256."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            ANSIBLE_WHEEL,
            "-d",
            str(destination),
        ],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    wheel = next(destination.glob("ansible-*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != ANSIBLE_WHEEL_SHA256:
        raise SystemExit(
            f"agentroll setup: {wheel.name} has SHA-256 {digest}, expected {ANSIBLE_WHEEL_SHA256}"
        )
    return wheel


def unpack_collections(wheel: Path, collections_root: Path, fqcns: list[str]) -> None:
    """Extract only the given collections from the ``ansible`` wheel."""
    prefixes = tuple(f"ansible_collections/{fqcn.replace('.', '/')}/" for fqcn in fqcns)
    with zipfile.ZipFile(wheel) as archive:
        members = [member for member in archive.namelist() if member.startswith(prefixes)]
        for fqcn in fqcns:
            shutil.rmtree(collections_root / fqcn.replace(".", "/"), ignore_errors=True)
        archive.extractall(collections_root.parent, members)


def link_own_collection(root: Path, collections_root: Path) -> None:
    """Make the checkout resolvable as ``agentroll.toolkit`` (a relative symlink to the root)."""
    namespace_dir = collections_root / OWN_COLLECTION[0]
    namespace_dir.mkdir(parents=True, exist_ok=True)
    link = namespace_dir / OWN_COLLECTION[1]
    target = Path("../../..")
    if link.is_symlink() and Path(link.readlink()) == target:
        return
    if link.exists() or link.is_symlink():
        link.unlink()
    link.symlink_to(target, target_is_directory=True)
    if link.resolve() != root.resolve():
        raise SystemExit(f"agentroll setup: {link} does not point at {root}")


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else ".").resolve()
    collections_root = root / "collections" / "ansible_collections"
    missing = [
        fqcn
        for fqcn, version in PINNED_COLLECTIONS.items()
        if installed_version(collections_root, fqcn) != version
    ]
    if missing:
        print(f"agentroll setup: unpacking {', '.join(missing)} from {ANSIBLE_WHEEL}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="agentroll-wheel-") as scratch:
            unpack_collections(download_wheel(Path(scratch)), collections_root, missing)
        for fqcn in missing:
            found = installed_version(collections_root, fqcn)
            if found != PINNED_COLLECTIONS[fqcn]:
                raise SystemExit(
                    f"agentroll setup: {fqcn} {found} unpacked, expected {PINNED_COLLECTIONS[fqcn]}"
                )
    link_own_collection(root, collections_root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
