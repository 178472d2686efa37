"""The collection tarball: what a controller or an execution environment needs, and nothing else.

``ansible-galaxy collection build`` runs on a plain copy of the project into which a working
checkout's leftovers were put (reports, state files, a vault file and a vault password file, older
tarballs, the builder's context, caches): galaxy.yml's ``build_ignore`` must keep all of them out,
as well as the development files and the demo district, and keep in everything the collection
runs with. The same manifest decides what project sync installs (tests/awx/test_awx_project.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.awx.support import TARBALL_NAME, build_collection, plain_copy, tarball_members

#: Where the collection's content lives, relative to its root (files below these are all in).
CONTENT_DIRS = ("agentroll", "docs", "inventory/example", "meta", "playbooks", "plugins", "roles")
CONTENT_FILES = ("CHANGELOG.md", "COPYING", "README.md", "bindep.txt", "pyproject.toml", "requirements.txt")
#: What a working checkout accumulates; none of it may reach the tarball.
LEFTOVERS = {
    "reports/coverage.json": "{}",
    "reports/demo/logs/site.log": "log",
    "state/demo.sqlite": "sqlite",
    "state/demo.sqlite-wal": "wal",
    "stragglers.txt": "vp-02\n",
    "inventory/example/group_vars/all/vault.yml": "x: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6134\n",
    ".vault-pass": "the-vault-password\n",
    "build/agentroll-toolkit-0.0.1.tar.gz": "old",
    "context/Containerfile": "FROM scratch\n",
    ".venv/bin/python": "",
    "agentroll.egg-info/PKG-INFO": "",
    "agentroll/__pycache__/plan.cpython-313.pyc": "",
    "collections/ansible_collections/ansible/windows/MANIFEST.json": "{}",
    ".pytest_cache/README.md": "",
    ".ruff_cache/CACHEDIR.TAG": "",
}
#: Development files and inventories of the repository that must stay out.
DEVELOPMENT = (
    "Makefile",
    "ansible.cfg",
    "execution-environment.yml",
    "collections/requirements.yml",
    "scripts/bootstrap",
    ".ansible-lint",
    ".gitignore",
    ".ci/run",
    "inventory/demo/hosts.yml",
    "inventory/demo/fleet.yml",
    "inventory/demo/group_vars/all/connection.yml",
)
_VAULT_CIPHERTEXT = re.compile(rb"\$ANSIBLE_VAULT;[\d.]+;AES256\s*\n\s*[0-9a-f]{8,}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("collection")
    project = plain_copy(workdir / "project")
    collection_content = _content_files(project)
    for relative, text in LEFTOVERS.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text, encoding="utf-8")
    tarball = build_collection(project, workdir / "dist")
    members = tarball_members(tarball)
    yield {
        "project": project,
        "content": collection_content,
        "tarball": tarball,
        "members": members,
        "workdir": workdir,
    }


def _content_files(project: Path) -> set[str]:
    found = {name for name in CONTENT_FILES if (project / name).is_file()}
    for directory in CONTENT_DIRS:
        for path in (project / directory).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                found.add(path.relative_to(project).as_posix())
    return found


def test_the_tarball_holds_exactly_the_collection_content(built: dict[str, Any]) -> None:
    members = set(built["members"]) - {"MANIFEST.json", "FILES.json"}
    expected = built["content"]
    assert members - expected == set(), "in the tarball but not collection content (add to build_ignore)"
    assert expected - members == set(), "collection content missing from the tarball"
    assert built["tarball"].name == TARBALL_NAME


def test_leftovers_development_files_and_the_demo_district_stay_out(built: dict[str, Any]) -> None:
    members = set(built["members"])
    for relative in (*LEFTOVERS, *DEVELOPMENT):
        assert relative not in members
    assert not [name for name in members if name.startswith(("tests/", "scripts/", ".venv/", "collections/"))]
    assert {name for name in members if name.startswith("inventory/")} == {
        name for name in built["content"] if name.startswith("inventory/example/")
    }


def test_no_vault_ciphertext_or_vault_password_travels_in_the_tarball(built: dict[str, Any]) -> None:
    for name, content in built["members"].items():
        assert not _VAULT_CIPHERTEXT.search(content), f"{name} holds vault ciphertext"
        assert b"the-vault-password" not in content, name
    # The example's vault file shape is shipped, with placeholders instead of ciphertext.
    example = built["members"]["inventory/example/group_vars/all/vault.yml.example"]
    assert b"$ANSIBLE_VAULT;1.1;AES256" in example and b"REPLACE-WITH-THE-OUTPUT" in example


def test_the_collection_carries_the_python_package_its_plugins_name(built: dict[str, Any]) -> None:
    """A plugin without the package says ``pip install <collection>``: that must build agentroll."""
    unpacked = built["workdir"] / "unpacked"
    with tarfile.open(built["tarball"]) as archive:
        archive.extractall(unpacked, filter="data")
    wheels = built["workdir"] / "wheels"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*pip_wheel, "-w", str(wheels), str(unpacked)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    wheel = next(wheels.glob("agentroll-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"agentroll/plan.py", "agentroll/cli.py", "agentroll/schemas/coverage-1.json"} <= names
    assert not [name for name in names if name.startswith("tests/")]
