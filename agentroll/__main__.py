"""``python -m agentroll``: the same command as ``agentroll``."""

from agentroll.cli import main

raise SystemExit(main())
