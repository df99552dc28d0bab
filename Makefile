# Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
UV ?= $(shell uv --version >/dev/null 2>&1 && command -v uv || echo $(HOME)/.local/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test install lint typecheck pytest bench bench-tools clean

# uv comes from PyPI through the machine's Python; Debian's own Python refuses --user installs
# (PEP 668) unless told the install stays in the user's folder.
$(UV):
	python3 -m pip install --user --quiet --disable-pip-version-check uv \
	  || python3 -m pip install --user --quiet --disable-pip-version-check --break-system-packages uv

install: $(UV)
	$(UV) sync --frozen

demo: install
	$(UV) run --frozen rampart demo

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: install
	$(UV) run --frozen mypy

pytest: install
	$(UV) run --frozen pytest -n 2 -q

test: lint typecheck pytest

bench: install
	$(UV) run --frozen python benchmarks/ingest.py

# Tools the HTTP benchmark (benchmarks/api.py) drives the server with; CI does not need them.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench-tools:
	command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	wrk --version 2>&1 | head -1 || true

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache rampart-demo rampart-report
