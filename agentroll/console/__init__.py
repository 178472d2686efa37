"""The central monitoring console's count beside agentroll's (issue 11).

``columns`` (which export column holds what), ``settings`` (the inventory's ``agentroll_console_*``),
``export`` (reading a CSV/XLSX endpoint export), ``matching`` (entry → inventory PC by MAC, address,
name), ``reconcile`` (the four-way truth the report carries), ``importing`` (``agentroll console
import``: read, check, record) and ``writer`` (what a console would export now, for the simulated
fleet and the demo). Modules are imported by their full names: this package imports nothing, so
that the inventory's validation can use ``settings`` without the rest.
"""
