# Two entry points (see README): `make suite` runs the verification, `make test` runs the tests.
# Both create .venv from pyproject.toml's pinned versions on first use (with the temporal extra,
# so that `make test` runs the Temporal comparison's end-to-end test too).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: suite test lint clean temporal

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

# Lint, then every test; end-to-end tests skip (with the reason) when no dev server is found.
# pytest exits 5 when it collected nothing. Unit tests always exist here, so that can only mean
# discovery broke: say so and fail rather than pass on zero tests.
test: $(STAMP) lint
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: test discovery is broken"; exit 1; fi; \
	exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
