"""The execution environment definition, checked with the pinned ansible-builder (no image is built).

``ansible-builder create`` turns ``execution-environment.yml`` into a build context as the README
says to run it (after ``ansible-galaxy collection build --output-path build/``); the Containerfile
must install the collection from that tarball before ansible-builder introspects the installed
collections. ``ansible-builder introspect`` on the collection installed the same way must find the
collection's Python and system requirements: the agentroll package with the pins of
pyproject.toml, and bindep.txt.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from agentroll.sim.testing import PROJECT_ROOT
from tests.awx.support import TARBALL_NAME, build_collection, plain_copy, run, tool

COLLECTIONS_IN_EE = "/usr/share/ansible/collections"
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: ansible-builder leaves these to the image itself (its introspect EXCLUDE_REQUIREMENTS).
PROVIDED_BY_THE_IMAGE = {"ansible-core", "pyyaml"}


def _pin(name: str, requirements: list[str]) -> str:
    return next(line for line in requirements if Requirement(line).name.lower() == name)


@pytest.fixture(scope="module")
def ee(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("ee")
    project = plain_copy(workdir / "project")
    build_collection(project, project / "build")
    created = run(
        [
            tool("ansible-builder"),
            "create",
            "--file",
            "execution-environment.yml",
            "--context",
            str(workdir / "context"),
            "--output-filename",
            "Containerfile",
        ],
        cwd=project,
    )
    # The galaxy stage's own step, done here: the collection installed from the tarball.
    installed = run(
        [
            tool("ansible-galaxy"),
            "collection",
            "install",
            "--offline",
            "--no-deps",
            "--collections-path",
            str(workdir / "collections"),
            str(project / "build" / TARBALL_NAME),
        ],
        cwd=workdir,
    )
    introspected = run([tool("ansible-builder"), "introspect", str(workdir / "collections")], cwd=workdir)
    yield {
        "project": project,
        "context": workdir / "context",
        "created": created,
        "installed": installed,
        "introspected": introspected,
    }


def test_create_writes_a_build_context_with_the_collection_tarball(ee: dict[str, Any]) -> None:
    assert ee["created"].returncode == 0, ee["created"].stdout + ee["created"].stderr
    build = ee["context"] / "_build"
    assert (build / "collections" / TARBALL_NAME).is_file()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))
    assert galaxy["collections"] == [
        {"name": "ansible.windows", "version": "3.8.0"},
        {"name": "community.general", "version": "13.5.0"},
    ]


def test_the_containerfile_pins_ansible_and_installs_the_collection_before_introspection(
    ee: dict[str, Any],
) -> None:
    containerfile = (ee["context"] / "Containerfile").read_text(encoding="utf-8")
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="(.*)"$', containerfile, re.M)
    assert refs is not None, containerfile
    assert set(refs.group(1).split()) == {
        _pin("ansible-core", PYPROJECT["project"]["dependencies"]),
        _pin("ansible-runner", PYPROJECT["project"]["dependencies"]),
    }
    base = re.search(r'^ARG EE_BASE_IMAGE="(.*)"$', containerfile, re.M)
    assert base is not None and base.group(1) == "quay.io/centos/centos:stream10"
    steps = [
        f"--collections-path {COLLECTIONS_IN_EE} /build/collections/agentroll-toolkit-*.tar.gz",
        "introspect.py introspect",
        "/output/scripts/assemble",
        "FROM base AS final",
        "/output/scripts/install-from-bindep",
    ]
    positions = [containerfile.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), dict(zip(steps, positions, strict=True))


def test_introspect_finds_the_python_package_its_pins_and_bindep(ee: dict[str, Any]) -> None:
    assert ee["installed"].returncode == 0, ee["installed"].stdout + ee["installed"].stderr
    assert ee["introspected"].returncode == 0, ee["introspected"].stderr
    found = yaml.safe_load(ee["introspected"].stdout.split("---", 1)[1])
    origin = "  # from collection agentroll.toolkit"
    python = [line.removesuffix(origin) for line in found["python"] if line.endswith(origin)]
    assert len(python) == len(found["python"])
    package = Requirement(python[0])
    assert package.name == "agentroll"
    assert package.url == f"file://{COLLECTIONS_IN_EE}/ansible_collections/agentroll/toolkit"
    pinned = {
        Requirement(line).name.lower(): line
        for line in PYPROJECT["project"]["dependencies"]
        if Requirement(line).name.lower() not in PROVIDED_BY_THE_IMAGE
    }
    assert {Requirement(line).name.lower(): line for line in python[1:]} == pinned
    bindep = [line for line in (ee["project"] / "bindep.txt").read_text().splitlines() if line[:1] not in "#"]
    assert [line.removesuffix(origin) for line in found["system"]] == [line for line in bindep if line]


def test_bindep_txt_parses_and_names_only_build_time_packages(ee: dict[str, Any]) -> None:
    profiles = run([tool("bindep"), "--file", "bindep.txt", "--profiles"], cwd=ee["project"])
    assert profiles.returncode == 0, profiles.stdout + profiles.stderr
    assert re.search(r"^Configuration profiles:\ncompile$", profiles.stdout, re.M), profiles.stdout
    entries = [
        line for line in (ee["project"] / "bindep.txt").read_text().splitlines() if line[:1] not in "#"
    ]
    assert entries and all(re.fullmatch(r"\S+ \[compile platform:rpm\]", line) for line in entries if line)


def test_the_collection_points_ansible_builder_at_its_requirement_files(ee: dict[str, Any]) -> None:
    meta = yaml.safe_load((ee["project"] / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert meta == {"version": 1, "dependencies": {"python": "requirements.txt", "system": "bindep.txt"}}
