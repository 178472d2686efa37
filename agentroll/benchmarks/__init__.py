"""Benchmarks of ``make bench`` that live apart from ``agentroll.bench`` (the store's, for now)."""
