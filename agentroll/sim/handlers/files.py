"""Files: the connection plugin's transfers and temp dirs, win_copy, win_stat and win_file."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from agentroll.sim.decoder import (
    ExpandUser,
    FetchFile,
    MakeTempDir,
    ModuleRun,
    PathExists,
    PutFile,
    RemovePath,
)
from agentroll.sim.handlers.base import (
    ModuleFailure,
    ModuleResult,
    ModuleSpec,
    as_bool,
    module_handler,
)
from agentroll.sim.host import SimHost, parent_path

TransferAnswer = tuple[bytes, bytes, int]


# --- connection and shell plugin plumbing ----------------------------------------------------


def answer_transfer(
    host: SimHost, invocation: PutFile | FetchFile | MakeTempDir | ExpandUser | RemovePath | PathExists
) -> TransferAnswer:
    """Answer the plumbing commands Ansible sends around module runs."""
    match invocation:
        case PutFile():
            return _put_file(host, invocation)
        case FetchFile():
            return _fetch_file(host, invocation)
        case MakeTempDir():
            path = join_path(expand_environment(host, invocation.directory), invocation.name)
            host.files.make_dirs(path, host.now())
            return path.encode() + b"\r\n", b"", 0
        case ExpandUser():
            return expand_user(host, invocation.path).encode() + b"\r\n", b"", 0
        case RemovePath():
            if host.files.remove(invocation.path):
                return b"", b"", 0
            return b"", _not_found(invocation.path), 1
        case PathExists():
            return b"", b"", 0 if host.files.exists(invocation.path) else 1


def _put_file(host: SimHost, put: PutFile) -> TransferAnswer:
    """Write the received bytes and print their sha1 as winrm_put_file.ps1 does."""
    parent = parent_path(put.path)
    if parent is not None and not host.files.is_dir(parent):
        message = (
            f'Exception calling "Create" with "1" argument(s): "Could not find a part of the path '
            f"'{put.path}'.\"\r\n"
        )
        return b"", message.encode(), 1
    host.files.write(put.path, put.data, host.now())
    return json.dumps({"sha1": hashlib.sha1(put.data).hexdigest()}).encode() + b"\r\n", b"", 0


def _fetch_file(host: SimHost, fetch: FetchFile) -> TransferAnswer:
    """Print one base64 chunk of a file, ``[DIR]`` for a directory, or fail when missing."""
    if host.files.is_dir(fetch.path):
        return b"[DIR]\r\n", b"", 0
    data = host.files.read(fetch.path)
    if data is None:
        return b"", f"{fetch.path} does not exist\r\n".encode(), 1
    chunk = data[fetch.offset : fetch.offset + fetch.buffer_size]
    return (base64.b64encode(chunk) + b"\r\n" if chunk else b""), b"", 0


def _not_found(path: str) -> bytes:
    """Return PowerShell's error for a path that does not exist."""
    return f"Cannot find path '{path}' because it does not exist.\r\n".encode()


def user_profile(host: SimHost) -> str:
    """Return the connecting user's profile directory."""
    return f"{host.system_drive}\\Users\\{host.username}"


def expand_environment(host: SimHost, path: str) -> str:
    """Expand the environment variables Ansible uses in remote paths (%TEMP%, %TMP%, ...)."""
    variables = {
        "%temp%": f"{user_profile(host)}\\AppData\\Local\\Temp",
        "%tmp%": f"{user_profile(host)}\\AppData\\Local\\Temp",
        "%userprofile%": user_profile(host),
        "%systemroot%": f"{host.system_drive}\\Windows",
        "%windir%": f"{host.system_drive}\\Windows",
        "%systemdrive%": host.system_drive,
        "%programdata%": f"{host.system_drive}\\ProgramData",
        "%programfiles%": f"{host.system_drive}\\Program Files",
    }
    lowered = path.lower()
    for name, value in variables.items():
        index = lowered.find(name)
        while index != -1:
            path = path[:index] + value + path[index + len(name) :]
            lowered = path.lower()
            index = lowered.find(name)
    return path


def expand_user(host: SimHost, path: str) -> str:
    """Expand ``~`` like powershell_expand_user.ps1."""
    if path == "~":
        return user_profile(host)
    if path.startswith("~\\") or path.startswith("~/"):
        return join_path(user_profile(host), path[2:])
    return path


def join_path(directory: str, child: str) -> str:
    """Join Windows path parts like ``Join-Path``."""
    return directory.rstrip("\\/") + "\\" + child.lstrip("\\/")


def _sha1(data: bytes) -> str:
    """Return the lower-case hex sha1 that Get-FileChecksum prints."""
    return hashlib.sha1(data).hexdigest()


# --- win_copy -----------------------------------------------------------------------------

_COPY_SPEC = ModuleSpec(
    options={
        "src": None,
        "dest": None,
        "backup": False,
        "force": True,
        "content": None,
        "decrypt": True,
        "local_follow": True,
        "remote_src": False,
        "_copy_mode": "single",
        "_original_basename": None,
        "files": [],
        "directories": [],
        "symlinks": [],
    },
    required=frozenset({"dest"}),
    choices={"_copy_mode": ("explode", "query", "remote", "single")},
    strict=False,
)


@module_handler("win_copy", _COPY_SPEC)
def win_copy(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Serve win_copy's query, single and remote modes (the action plugin drives them)."""
    mode = params["_copy_mode"]
    if mode == "query":
        return _copy_query(host, params)
    if mode == "single":
        return _copy_single(host, params, run.check_mode)
    if mode == "remote":
        return _copy_remote(host, params, run.check_mode)
    raise ModuleFailure("agentroll sim: win_copy of several files (zip 'explode' mode) is not simulated")


def _copy_query(host: SimHost, params: dict[str, Any]) -> ModuleResult:
    """Return which of the controller's files must be sent (missing or different checksum)."""
    dest = str(params["dest"])
    changed_files = []
    for entry in params["files"] or []:
        path = join_path(dest, entry["dest"]) if entry["dest"] not in (".", "") else dest
        if host.files.is_dir(path):
            path = join_path(path, str(entry["src"]).replace("/", "\\").rsplit("\\", 1)[-1])
        data = host.files.read(path)
        if data is not None:
            if as_bool(params["force"]) and _sha1(data) != entry.get("checksum"):
                changed_files.append(entry)
        elif host.files.is_dir(path):
            raise ModuleFailure(f"cannot copy file to dest '{path}': object at path is already a directory")
        else:
            changed_files.append(entry)
    changed_directories = [
        d for d in params["directories"] or [] if not host.files.is_dir(join_path(dest, d["dest"]))
    ]
    return {"changed": False, "files": changed_files, "directories": changed_directories, "symlinks": []}


def _copy_single(host: SimHost, params: dict[str, Any], check_mode: bool) -> ModuleResult:
    """Copy the uploaded temp file into place, as win_copy.ps1's single mode does."""
    src = params["src"]
    if not src:
        raise ModuleFailure("missing required argument: src")
    data = host.files.read(src)
    if data is None:
        raise ModuleFailure(f"Cannot copy src file: '{src}' as it does not exist")
    dest = str(params["dest"])
    remote_dest = dest
    if dest.endswith(("\\", "/")) or host.files.is_dir(dest):
        remote_dest = join_path(dest, str(params["_original_basename"]))
    parent = parent_path(remote_dest)
    if parent is not None and not host.files.is_dir(parent):
        if host.files.exists(parent):
            raise ModuleFailure(f"object at destination parent dir '{parent}' is currently a file")
        if dest == remote_dest:
            raise ModuleFailure(f"Destination directory '{parent}' does not exist")
    if not check_mode:
        host.files.write(remote_dest, data, host.now())
    return {"changed": True}


def _copy_remote(host: SimHost, params: dict[str, Any], check_mode: bool) -> ModuleResult:
    """Copy a file that is already on the host (remote_src: true)."""
    src = str(params["src"] or "")
    data = host.files.read(src)
    if data is None:
        raise ModuleFailure(f"Cannot copy src file: '{src}' as it does not exist")
    dest = str(params["dest"])
    if dest.endswith(("\\", "/")) or host.files.is_dir(dest):
        dest = join_path(dest, src.replace("/", "\\").rsplit("\\", 1)[-1])
    existing = host.files.read(dest)
    changed = existing is None or _sha1(existing) != _sha1(data)
    if changed and not check_mode:
        host.files.write(dest, data, host.now())
    return {
        "changed": changed,
        "src": src,
        "dest": dest,
        "checksum": _sha1(data),
        "size": len(data),
        "operation": "file_copy",
        "original_basename": src.replace("/", "\\").rsplit("\\", 1)[-1],
    }


# --- win_stat -----------------------------------------------------------------------------

_STAT_SPEC = ModuleSpec(
    options={
        "path": None,
        "dest": None,
        "name": None,
        "get_checksum": True,
        "get_size": True,
        "checksum_algorithm": "sha1",
        "follow": False,
    },
    choices={"checksum_algorithm": ("md5", "sha1", "sha256", "sha384", "sha512")},
)


@module_handler("win_stat", _STAT_SPEC)
def win_stat(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Describe a file or directory the way win_stat's ``stat`` dictionary does."""
    path = _path_param(params)
    entry = host.files.get(path)
    if entry is None and not host.files.is_dir(path):
        return {"changed": False, "stat": {"exists": False}}
    modified = entry.modified if entry is not None else host.boot_time
    shown_path = entry.path if entry is not None else path
    name = shown_path.rstrip("\\").rsplit("\\", 1)[-1]
    stat: dict[str, Any] = {
        "exists": True,
        "attributes": "Directory" if entry is None or entry.is_dir else "Archive",
        "isarchive": entry is not None and not entry.is_dir,
        "isdir": entry is None or entry.is_dir,
        "ishidden": False,
        "isjunction": False,
        "islnk": False,
        "isreadonly": False,
        "isreg": entry is not None and not entry.is_dir,
        "isshared": False,
        "nlink": 1,
        "hlnk_targets": [],
        "creationtime": modified,
        "lastaccesstime": modified,
        "lastwritetime": modified,
        "path": shown_path,
        "filename": name,
        "owner": "BUILTIN\\Administrators",
    }
    if entry is not None and not entry.is_dir:
        data = entry.data or b""
        stat["extension"] = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        if as_bool(params["get_size"]):
            stat["size"] = len(data)
        if as_bool(params["get_checksum"]):
            stat["checksum"] = hashlib.new(params["checksum_algorithm"], data).hexdigest()
    elif as_bool(params["get_size"]):
        stat["size"] = sum(len(e.data or b"") for e in host.files.children(path))
    return {"changed": False, "stat": stat}


def _path_param(params: dict[str, Any]) -> str:
    """Return ``path`` or one of its aliases (dest, name), failing like Ansible when none is set."""
    path = params.get("path") or params.get("dest") or params.get("name")
    if not path:
        raise ModuleFailure("missing required arguments: path")
    return str(path)


# --- win_file -----------------------------------------------------------------------------

_FILE_SPEC = ModuleSpec(
    options={
        "path": None,
        "dest": None,
        "name": None,
        "state": None,
        "access_time": None,
        "access_time_format": "yyyy-MM-dd HH:mm:ss",
        "modification_time": None,
        "modification_time_format": "yyyy-MM-dd HH:mm:ss",
        "_original_basename": None,
        "_diff_peek": None,
    },
    choices={"state": ("absent", "directory", "file", "touch")},
    strict=False,
)


@module_handler("win_file", _FILE_SPEC)
def win_file(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Create directories, touch files and remove paths, as win_file.ps1 does."""
    path = _path_param(params)
    state = params["state"]
    now = host.now()
    if params["_diff_peek"] is not None:
        exists = host.files.exists(path)
        return {
            "changed": False,
            "path": path,
            "appears_binary": False,
            "state": "file" if exists else "absent",
        }
    if state == "touch":
        if not run.check_mode:
            host.files.touch(path, now)
        return {"changed": True}
    if host.files.exists(path):
        if state == "absent":
            if not run.check_mode:
                host.files.remove(path)
            return {"changed": True}
        if state == "directory" and not host.files.is_dir(path):
            raise ModuleFailure(f"path {path} is not a directory", changed=False)
        if state == "file" and host.files.is_dir(path):
            raise ModuleFailure(f"path {path} is not a file", changed=False)
        return {"changed": False}
    if state is None:
        state = "directory" if path.endswith(("\\", "/")) else "file"
    if state == "directory":
        if not run.check_mode:
            host.files.make_dirs(path, now)
        return {"changed": True}
    if state == "file":
        raise ModuleFailure(f"path {path} will not be created", changed=False)
    return {"changed": False}
