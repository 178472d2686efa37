"""Refresh tests/sim/golden/: capture what the real Ansible sends to the simulated fleet.

Run from the repository root::

    .venv/bin/python tests/sim/capture_golden.py

It runs playbooks/modules_e2e.yml against the E2E fleet with AGENTROLL_SIM_CAPTURE set, keeps
the first command of each kind from the healthy PC, and writes them as gzip'd JSON
(``address``, ``command_line``, ``stdin_b64``). Module payloads are trimmed: the base64 bodies of
the exec wrapper's scripts are emptied (the decoder never reads them; they are ~90 % of the
size). ``module-win_ping.full.json.gz`` is kept untrimmed, byte for byte. Re-run it after
bumping ansible-core or ansible.windows, then run tests/sim/test_decoder.py.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_support import E2E_SPEC, GROUPS, run_modules_playbook

from agentroll.sim.decoder import ModuleRun, decode
from agentroll.sim.fleet import CAPTURE_ENV
from agentroll.sim.testing import running_fleet

GOLDEN = Path(__file__).resolve().parent / "golden"
_SEPARATOR = b"\n\0\0\0\0\n"


def label(command_line: str, stdin: bytes) -> str:
    """Name a captured command by what the decoder makes of it."""
    invocation = decode(command_line, stdin)
    if isinstance(invocation, ModuleRun):
        name = f"module-{invocation.fqcn.rsplit('.', 1)[-1]}"
        if invocation.fqcn.endswith("win_copy"):
            name += f"-{invocation.args.get('_copy_mode')}"
        return name + ("-check" if invocation.check_mode else "")
    return type(invocation).__name__.lower()


def trim(stdin: bytes) -> bytes:
    """Empty the script bodies of a bootstrap payload, keeping everything else as sent."""
    parts = stdin.split(_SEPARATOR)
    if len(parts) < 2:
        return stdin
    bootstrap = json.loads(parts[0])
    bootstrap["script"] = ""
    manifest = json.loads(parts[1])
    for script in manifest.get("scripts", {}).values():
        script["script"] = ""
    parts[0] = json.dumps(bootstrap, ensure_ascii=True).encode()
    parts[1] = json.dumps(manifest).encode()
    return _SEPARATOR.join(parts)


def main() -> int:
    """Capture, select and write the golden payloads."""
    with tempfile.TemporaryDirectory() as work:
        capture = Path(work) / "capture"
        os.environ[CAPTURE_ENV] = str(capture)
        with running_fleet(E2E_SPEC) as handle:
            result = run_modules_playbook(handle, Path(work))
            healthy = handle.address_of(GROUPS["win10"])
        os.environ.pop(CAPTURE_ENV)
        if result.returncode != 0:
            print(result.stdout[-4000:], result.stderr[-2000:], sep="\n")
            return 1
        chosen: dict[str, dict[str, str]] = {}
        for path in sorted(capture.iterdir(), key=lambda p: int(p.name.split("-")[1])):
            payload = json.loads(gzip.decompress(path.read_bytes()))
            if payload["address"] != healthy:
                continue
            stdin = base64.b64decode(payload["stdin_b64"])
            name = label(payload["command_line"], stdin)
            chosen.setdefault(name, payload)
        GOLDEN.mkdir(exist_ok=True)
        for name, payload in sorted(chosen.items()):
            stdin = base64.b64decode(payload["stdin_b64"])
            if name == "module-win_ping":
                _write(GOLDEN / f"{name}.full.json.gz", payload)
            payload = {**payload, "stdin_b64": base64.b64encode(trim(stdin)).decode()}
            _write(GOLDEN / f"{name}.json.gz", payload)
            print(name)
    return 0


def _write(path: Path, payload: dict[str, str]) -> None:
    """Write one golden file (gzip without a timestamp, so refreshes diff cleanly)."""
    data = json.dumps(payload, indent=1).encode()
    path.write_bytes(gzip.compress(data, mtime=0))


if __name__ == "__main__":
    raise SystemExit(main())
