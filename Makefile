# Two entry points (see README): `make suite` runs the verification, `make test` runs the tests.
# Both create .venv from pyproject.toml's pinned versions on first use (with the temporal extra,
# so that `make test` runs the Temporal comparison's end-to-end test too).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: suite test lint clean temporal campaign

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,temporal]"
	touch $(STAMP)

# Every category script (concurrently where safe; run_all.py --help), then REPORT.md and
# REPORT_ja.md. The exit code is the worst of the scripts' (README: exit codes).
suite: $(STAMP)
	$(BIN)/python run_all.py

# The Temporal side of the comparison, measured against Temporal's own dev server (about two
# minutes; README: "The Temporal comparison").
temporal: $(STAMP)
	$(BIN)/python compare_temporal.py

# Durability under random faults (README: "The fault campaign"): the self-hosted server (about
# ten minutes), then a smaller campaign on the dev server; each adds to
# results/fault_campaign.json, then the reports are generated again.
campaign: $(STAMP)
	$(BIN)/python fault_campaign.py --server self-hosted
	$(BIN)/python fault_campaign.py --server dev --runs 150 --duration 120 --mean-gap 0.6
	$(BIN)/python report.py

# Lint, then every test. The tests that are not end-to-end run as on a machine that has never
# seen a dev server (tests/without_dev_server.py hides inngest from PATH), so one that quietly
# needs it fails here; then the end-to-end tests, which skip with the reason when no dev server
# (or Temporal CLI) is found. pytest exits 5 when it collected nothing: tests always exist here,
# so that can only mean discovery broke: say so and fail rather than pass on zero tests.
PYTEST_NO_EMPTY = rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: test discovery is broken"; exit 1; fi; [ $$rc -eq 0 ] || exit $$rc

test: $(STAMP) lint
	@echo "== tests without a dev server (inngest hidden from PATH)"
	@$(BIN)/python tests/without_dev_server.py $(BIN)/python -m pytest -m "not devserver and not temporal"; $(PYTEST_NO_EMPTY)
	@echo "== end-to-end tests (they skip, saying why, without a dev server or Temporal CLI)"
	@$(BIN)/python -m pytest -m "devserver or temporal"; $(PYTEST_NO_EMPTY)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
