"""A district's inventory: units are groups under ``units``, licensed PCs are their hosts.

Two layers: ``validate`` is pure validation of plain group and host data (``build_inventory``, no
Ansible), ``loader`` lets Ansible parse the inventory and hands that plain data over
(``load_inventory``, the one adapter of the library that imports Ansible).
"""

from agentroll.inventory.loader import (
    host_variables,
    inventory_from_ansible,
    load_inventory,
    plain_data_from_ansible,
)
from agentroll.inventory.validate import (
    CONTROL_CHARACTER,
    UNIT_CODE_PATTERN,
    UNITS_GROUP,
    GroupData,
    HostData,
    InventoryError,
    build_inventory,
)

__all__ = [
    "CONTROL_CHARACTER",
    "UNITS_GROUP",
    "UNIT_CODE_PATTERN",
    "GroupData",
    "HostData",
    "InventoryError",
    "build_inventory",
    "host_variables",
    "inventory_from_ansible",
    "load_inventory",
    "plain_data_from_ansible",
]
