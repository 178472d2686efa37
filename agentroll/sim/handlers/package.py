"""win_package over simulated installers (see agentroll/sim/installer.py)."""

from __future__ import annotations

import hashlib
from typing import Any

from agentroll.sim.decoder import ModuleRun
from agentroll.sim.handlers.base import (
    ModuleFailure,
    ModuleResult,
    ModuleSpec,
    as_int_list,
    module_handler,
)
from agentroll.sim.host import SimHost
from agentroll.sim.installer import (
    REBOOT_REQUIRED,
    InstallerFormatError,
    InstallerSpec,
    parse_installer,
    run_install,
    run_uninstall,
)

_WEB_REQUEST_OPTIONS = [
    "url_method",
    "url_timeout",
    "follow_redirects",
    "headers",
    "http_agent",
    "maximum_redirection",
    "validate_certs",
    "client_cert",
    "client_cert_password",
    "force_basic_auth",
    "url_username",
    "url_password",
    "use_default_credential",
    "use_proxy",
    "proxy_url",
    "proxy_username",
    "proxy_password",
    "proxy_use_default_credential",
]

_SPEC = ModuleSpec(
    options={
        "arguments": None,
        "expected_return_code": [0, 3010],
        "path": None,
        "chdir": None,
        "checksum": None,
        "checksum_algorithm": "sha1",
        "verify_signature": False,
        "product_id": None,
        "state": "present",
        "creates_path": None,
        "creates_version": None,
        "creates_service": None,
        "log_path": None,
        "provider": "auto",
        "wait_for_children": False,
        **dict.fromkeys(_WEB_REQUEST_OPTIONS),
    },
    choices={
        "state": ("present", "absent"),
        "checksum_algorithm": ("md5", "sha1", "sha256", "sha384", "sha512"),
    },
)


@module_handler("win_package", _SPEC)
def win_package(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Install or remove a product described by a simulated installer file or a product id."""
    state = params["state"]
    path = params["path"]
    _check_required(state, path, params["product_id"])
    installer = _load_installer(host, path, run.check_mode)
    product_id = params["product_id"] or (installer.product_id if installer else None)
    installed = _is_installed(host, product_id, params)
    result: ModuleResult = {"changed": False, "reboot_required": False, "rc": 0}
    changed = (state == "present") != installed
    if not changed or run.check_mode:
        result["changed"] = changed
        return result
    if state == "present":
        assert installer is not None  # present requires path, and path was loaded above
        return _install(host, installer, path, params, result)
    outcome = run_uninstall(host, str(product_id))
    result.update(changed=True, rc=outcome.rc)
    return result


def _check_required(state: str, path: str | None, product_id: str | None) -> None:
    """Apply win_package's required_if rules."""
    if state == "present" and not path:
        raise ModuleFailure("state is present but all of the following are missing: path")
    if state == "absent" and not (path or product_id):
        raise ModuleFailure("state is absent but any of the following are missing: path, product_id")
    if path and path.lower().startswith("http"):
        raise ModuleFailure(f"agentroll sim: downloading installers is not simulated ({path})")


def _load_installer(host: SimHost, path: str | None, check_mode: bool) -> InstallerSpec | None:
    """Read the simulated installer at ``path``; a missing file fails unless in check mode."""
    if not path:
        return None
    data = host.files.read(path)
    if data is None:
        if check_mode:
            return None
        raise ModuleFailure(f"the file at the path '{path}' cannot be reached")
    try:
        installer = parse_installer(data)
    except InstallerFormatError as error:
        raise ModuleFailure(f"agentroll sim: {path}: {error}") from None
    if installer is None:
        raise ModuleFailure(
            f"agentroll sim: '{path}' is not a simulated installer "
            "(a JSON file with agentroll_sim_installer: 1)"
        )
    return installer


def _is_installed(host: SimHost, product_id: str | None, params: dict[str, Any]) -> bool:
    """Decide as win_package does: product id first, then the creates_* hints."""
    if params["creates_path"] and not host.files.exists(params["creates_path"]):
        return False
    if params["creates_service"] and host.find_service(params["creates_service"]) is None:
        return False
    if params["creates_path"] or params["creates_service"]:
        return True
    return product_id is not None and host.find_product(product_id) is not None


def _install(
    host: SimHost, installer: InstallerSpec, path: str, params: dict[str, Any], result: ModuleResult
) -> ModuleResult:
    """Run the installer and fail like win_package when its exit code is not expected."""
    data = host.files.read(path) or b""
    algorithm = params["checksum_algorithm"]
    result["checksum"] = hashlib.new(algorithm, data).hexdigest().upper()
    if params["checksum"] and params["checksum"].upper() != result["checksum"]:
        raise ModuleFailure(
            f"The checksum for {path} did not match '{params['checksum']}', it was '{result['checksum']}'"
        )
    outcome = run_install(host, installer)
    expected = as_int_list(params["expected_return_code"])
    result["rc"] = outcome.rc
    if outcome.rc not in expected:
        command = _command_line(path, params["arguments"])
        result.update(stdout=outcome.stdout, stderr=outcome.stderr, reboot_required=False)
        raise ModuleFailure(
            f"unexpected rc from '{command}': see rc, stdout, and stderr for more details", **result
        )
    # Set explicitly, as win_package does: without it Ansible fails any result whose rc is not 0.
    # Like the real module, only 3010 says reboot_required; 1641 leaves that to the caller.
    result.update(changed=True, reboot_required=outcome.rc == REBOOT_REQUIRED, failed=False)
    return result


def _command_line(path: str, arguments: Any) -> str:
    """Return the command win_package would have run for this path."""
    extra = " ".join(arguments) if isinstance(arguments, list) else (arguments or "")
    if path.lower().endswith(".msi"):
        return f'msiexec.exe /i "{path}" /qn /norestart {extra}'.rstrip()
    return f'"{path}" {extra}'.rstrip()
