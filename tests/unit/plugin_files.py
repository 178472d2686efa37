"""The collection's plugin files, loaded by path: unit tests need no ``ansible_collections`` package."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def load_plugin_file(relative: str) -> ModuleType:
    """The module of ``plugins/<relative>``, executed afresh."""
    path = PLUGINS / relative
    spec = importlib.util.spec_from_file_location(f"agentroll_plugin_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
