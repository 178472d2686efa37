# The README's two commands are `make demo` and `make test`; both set themselves up.
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: setup demo test lint bench bench-full bench-province clean

setup:
	@scripts/bootstrap

demo: setup
	$(VENV)/bin/agentroll demo

test:
	@scripts/bootstrap --for-tests
	$(VENV)/bin/python -m pytest -n 2 --dist loadscope

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ansible-lint --profile production

# Every goal of the performance issue beside its measured figure; bench-full at the goals' own sizes.
bench: setup
	$(VENV)/bin/python -m agentroll.bench

bench-full: setup
	$(VENV)/bin/python -m agentroll.bench --full

# The province's dry run (10 districts, 1,920 simulated PCs) into one PostgreSQL store: about 2 minutes on a quiet machine.
bench-province: setup
	$(VENV)/bin/python -m agentroll.benchmarks.province

clean:
	rm -rf $(VENV) collections/ansible_collections .pytest_cache .ruff_cache .hypothesis
