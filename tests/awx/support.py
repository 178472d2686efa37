"""The repository as AWX and Galaxy users get it: a plain copy, project sync, the built collection.

Galaxy is not reachable from the test machines, so project sync runs ``ansible-galaxy`` with
``--offline`` on a collections path that already holds the pinned collections (copied from the
checkout's ``collections/``, which ``scripts/bootstrap`` fills from the Python package index): the
toolkit's own collection is still resolved from ``collections/requirements.yml`` exactly as AWX
resolves it, in the project's directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentroll.sim.testing import PROJECT_ROOT, VENV_BIN

#: Where the checkout's bootstrap unpacked the pinned collections.
CHECKOUT_COLLECTIONS = PROJECT_ROOT / "collections" / "ansible_collections"
GALAXY = yaml.safe_load((PROJECT_ROOT / "galaxy.yml").read_text(encoding="utf-8"))
TARBALL_NAME = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


def tool(name: str) -> str:
    """An executable of the project's virtualenv."""
    return str(VENV_BIN / name)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ANSIBLE_* setting (the test session sets some)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_NOCOLOR="1", PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


def run(
    command: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run a command with a clean Ansible environment; never raises on a non-zero exit."""
    return subprocess.run(
        list(command),
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def plain_copy(destination: Path) -> Path:
    """The project as a fresh clone holds it: tracked and not-ignored files, no .venv, no collections."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = PROJECT_ROOT / relative
        if source.is_file():  # a file deleted but not yet committed is listed too
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def seed_galaxy_collections(collections_path: Path) -> None:
    """Put the pinned collections (ansible.windows, community.general and its dependency) where Galaxy
    would have installed them."""
    for namespace, name in (
        ("ansible", "windows"),
        ("community", "general"),
        ("community", "library_inventory_filtering_v1"),
    ):
        shutil.copytree(
            CHECKOUT_COLLECTIONS / namespace / name,
            collections_path / "ansible_collections" / namespace / name,
        )


def project_sync(project: Path, collections_path: Path) -> subprocess.CompletedProcess[str]:
    """What AWX's project update does: install collections/requirements.yml from the project's directory."""
    seed_galaxy_collections(collections_path)
    return run(
        [
            tool("ansible-galaxy"),
            "collection",
            "install",
            "-r",
            "collections/requirements.yml",
            "--collections-path",
            str(collections_path),
            "--offline",
        ],
        cwd=project,
    )


def installed_version(collections_path: Path, namespace: str, name: str) -> str:
    """The version in an installed collection's MANIFEST.json."""
    manifest = collections_path / "ansible_collections" / namespace / name / "MANIFEST.json"
    return str(json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"])


def build_collection(project: Path, output: Path) -> Path:
    """``ansible-galaxy collection build`` of the project; the tarball's path."""
    done = run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(output)], cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return output / TARBALL_NAME


def tarball_members(tarball: Path) -> dict[str, bytes]:
    """Every regular file of a collection tarball with its content."""
    with tarfile.open(tarball) as archive:
        return {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        }


def awx_inventory_script(
    inventory: Path,
    destination: Path,
    *,
    drop_vars: Sequence[str] = (),
    slice_number: int = 1,
    slice_count: int = 1,
) -> Path:
    """The inventory as AWX hands it to a job: an executable script printing the inventory as JSON.

    Group variables stay on their groups (``ansible-inventory --list --export``, the shape AWX's
    own script has). ``drop_vars`` are removed everywhere: AWX gives the machine credential's user
    and password on the command line instead. A job slice (AWX's ``slice_number`` of
    ``slice_count``) gets every ``slice_count``-th host in name order, starting at its number; its
    groups keep only those hosts.
    """
    listing = run(
        [tool("ansible-inventory"), "-i", str(inventory), "--list", "--export"], cwd=inventory.parent
    )
    assert listing.returncode == 0, listing.stderr
    data: dict[str, Any] = json.loads(listing.stdout)
    hostvars: dict[str, dict[str, Any]] = data.get("_meta", {}).get("hostvars", {})
    kept = set(sorted(hostvars)[slice_number - 1 :: slice_count])
    data["_meta"]["hostvars"] = {host: values for host, values in hostvars.items() if host in kept}
    for name, group in data.items():
        if name == "_meta":
            continue
        if "hosts" in group:
            group["hosts"] = [host for host in group["hosts"] if host in kept]
        for variable in drop_vars:
            group.get("vars", {}).pop(variable, None)
    for values in data["_meta"]["hostvars"].values():
        for variable in drop_vars:
            values.pop(variable, None)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(
        f"#!{sys.executable}\nimport sys\nsys.stdout.write({json.dumps(data, ensure_ascii=False)!r})\n",
        encoding="utf-8",
    )
    destination.chmod(0o755)
    return destination


def job_directory(private: Path, project: Path, collections: Path) -> Path:
    """A job's private data directory as AWX lays it out: the synced project and its collections."""
    shutil.copytree(project, private / "project")
    shutil.copytree(collections, private / "requirements_collections")
    return private


@contextlib.contextmanager
def job_environment() -> Iterator[None]:
    """This process's environment as an AWX job's: no ANSIBLE_CONFIG (the project's own ansible.cfg
    applies), no AGENTROLL_* (reports land in the project's reports/ of the job's container)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith(("ANSIBLE_", "AGENTROLL_"))]:
            patch.delenv(name)
        yield


def job_arguments(
    private: Path,
    *,
    ident: str,
    playbook: str,
    inventory: Path,
    username: str,
    password: str,
    envvars: Mapping[str, str],
    events: list[dict[str, Any]],
) -> dict[str, Any]:
    """``ansible_runner.run``'s arguments for an AWX job: the machine credential given as AWX gives it
    (``-u`` and ``--ask-pass`` answered through runner's expect passwords, never written to a file),
    the synced collections, the job's id, and every event appended to ``events``."""

    def keep(event: dict[str, Any]) -> bool:
        events.append(event)
        return True

    return {
        "private_data_dir": str(private),
        "ident": ident,
        "playbook": playbook,
        "inventory": str(inventory),
        "cmdline": f"-u {username} --ask-pass",
        "passwords": {r"^SSH password:\s*?$": password},
        "envvars": {
            "ANSIBLE_COLLECTIONS_PATH": str(private / "requirements_collections"),
            "JOB_ID": ident,
            **envvars,
        },
        "suppress_env_files": True,
        "quiet": True,
        "timeout": 600,
        "event_handler": keep,
    }
