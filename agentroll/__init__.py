"""agentroll: roll a monitoring agent out to a district's Windows PCs and prove the coverage."""

__version__ = "0.1.0"
