# Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test install lint typecheck pytest bench clean

$(UV):
	python3 -m pip install --user --quiet --disable-pip-version-check uv

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

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache rampart-demo rampart-report
