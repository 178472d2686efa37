"""Make ``pytest -n 2 --dist loadgroup`` keep each ``xdist_group`` on one worker.

pytest-xdist 3.8 groups tests by appending ``@group`` to ``item._nodeid`` in each worker; pytest
9.2 derives ``nodeid`` from ``item._id`` instead, so the suffix never shows and every module-scoped
fleet scenario runs once per worker (twice the time; fixed-address fleets such as the demo's then
collide). This hook applies the same suffix the way pytest 9 reads it. It is a no-op without
``--dist loadgroup`` and once xdist sets the suffix itself.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # an older pytest: xdist's own suffix works there
        return
    for item in items:
        names = sorted(
            {
                str(m.args[0]) if m.args else str(m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        if names and "@" not in item.nodeid and hasattr(item, "_id"):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")
