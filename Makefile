# recovery-drill - set-up and run targets (GNU make).
#
#   make setup   venv + Docker Engine + local engine images (idempotent)
#   make test    setup + browser, then ruff, mypy, the import layers and the whole pytest suite
#   make browser headless Chromium for the HTML report test (Debian package, idempotent)
#   make unit    unit tests only (no Docker needed)
#   make drill   setup, then run scenarios/quickstart.yaml
#   make bench   setup, then the benchmarks (python -m bench)
#   make mutate  mutation testing of measure, verdict, JUnit outcomes, exit codes (mutmut; not in make test)
#   make cleanup remove containers/networks/volumes left by earlier runs
#   make soak    setup, then 100 drills and 25 interrupted ones, counting leftovers (bench.soak)
#   make pull    connected sites only: fetch the official images
#   make tool-image  the tool itself as recovery-drill/tool:local (opt-in; not in setup)
#
# Every recipe runs with testcontainers pointed at 127.0.0.1 and Ryuk off
# (Ryuk's image cannot be pulled here; the harness cleans up after itself).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
SCENARIO  ?= scenarios/quickstart.yaml
PYTEST_ARGS ?=

export TESTCONTAINERS_RYUK_DISABLED := true
export TESTCONTAINERS_CONNECTION_MODE := docker_host
export TC_HOST := 127.0.0.1

.PHONY: help venv engine images setup browser drill test unit bench mutate soak cleanup pull
.PHONY: tool-image

help:
	@sed -n 's/^#   make /  make /p' $(firstword $(MAKEFILE_LIST))

# --- Python ------------------------------------------------------------------
venv: $(STAMP)

$(PY):
	python3 -m venv $(VENV)

# Re-install only when pyproject.toml changes (or the venv is new).
$(STAMP): pyproject.toml | $(PY)
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

# --- Docker Engine and images ---------------------------------------------------
engine:
	bash compose/setup-engine.sh

images: engine
	bash compose/images/build.sh

setup: venv engine images

# The HTML report is checked in a real browser (tests/integration/test_report.py).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
		echo "make: chromium is missing and cannot be installed here (needs root and apt-get);" \
			"the browser test will skip" >&2; \
	fi

# --- Runs ------------------------------------------------------------------------
drill: setup
	$(VENV)/bin/recovery-drill run $(SCENARIO)

# pytest exits 5 when it collected no tests. With a selection asked for
# (PYTEST_ARGS="-k ..."), an empty result is an honest answer and a success;
# without one, an empty run means a broken collection and fails make, as does
# every other non-zero exit (failures, errors, crashes).
define run_pytest
	rc=0; $(PY) -m pytest -q $(1) $(PYTEST_ARGS) || rc=$$?; \
	if [ "$$rc" -eq 5 ]; then \
		if [ -n "$(strip $(PYTEST_ARGS))" ]; then \
			echo "make: the selection '$(PYTEST_ARGS)' matched no test (exit 5), treated as success"; rc=0; \
		else \
			echo "make: pytest collected no test at all (exit 5): the collection is broken" >&2; \
		fi; \
	fi; \
	exit "$$rc"
endef

test: setup browser
	$(VENV)/bin/ruff check harness tests bench
	$(VENV)/bin/mypy harness bench
	$(VENV)/bin/lint-imports
	$(call run_pytest,)

unit: venv
	$(call run_pytest,tests/unit)

bench: setup
	@if [ ! -d bench ]; then echo "make: bench/ does not exist yet" >&2; exit 2; fi
	$(PY) -m bench

# Mutation testing ([tool.mutmut] in pyproject.toml): every mutant of the measurement, verdict,
# JUnit-outcome and exit-code code must be killed by tests/unit, or be listed as equivalent (with the reason) in
# tests/mutation/equivalent.txt. The run's progress output is huge: it goes to MUTATE_LOG.
MUTATE_LOG ?= reports/mutmut.log
mutate: venv
	rm -rf mutants
	@mkdir -p $(dir $(MUTATE_LOG))
	@echo "make: mutmut run (a few minutes), progress in $(MUTATE_LOG)"
	$(VENV)/bin/mutmut run > $(MUTATE_LOG) 2>&1 || { tail -n 20 $(MUTATE_LOG) >&2; exit 1; }
	$(VENV)/bin/mutmut results
	$(VENV)/bin/mutmut results --all true | $(PY) tests/mutation/score.py tests/mutation/equivalent.txt

soak: setup
	$(PY) -m bench.soak

cleanup: venv
	$(VENV)/bin/recovery-drill cleanup

# For sites that can reach a registry: the official images, to run drills
# against (POSTGRES_IMAGE=postgres:16 etc.). Air-gapped machines use `make images`.
pull:
	docker pull postgres:16
	docker pull mariadb:11

# recovery-drill itself as an image (compose/images/recovery-drill/Dockerfile), for CI jobs and
# the Kubernetes CronJob in ci/: Python dependencies from a wheelhouse made here with pip.
tool-image: venv engine
	bash compose/images/build.sh tool
