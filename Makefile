# serverless-pypi: `make test` runs everything CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Terraform reads its providers from this machine's mirror when there is one.
export TF_CLI_CONFIG_FILE := $(shell scripts/terraform-cli-config.sh)
export TF_IN_AUTOMATION := 1

.PHONY: test lint fmt unit package package-check serve bench e2e clean venv

test: lint package-check unit ## everything CI runs

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

lint: $(STAMP) ## ruff, mypy --strict, terraform fmt
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format src tests scripts
	$(BIN)/ruff check --fix src tests scripts

unit: $(STAMP) ## unit tests on moto
	$(BIN)/pytest -q tests

package: $(STAMP) ## rebuild package/serverless-pypi.zip from src/
	$(BIN)/python scripts/build_lambda.py

package-check: $(STAMP)
	$(BIN)/python scripts/build_lambda.py --check

DIST ?= dist
PORT ?= 8000
serve: $(STAMP) ## the index on loopback with an embedded S3, seeded from ./dist if present
	$(BIN)/python -m serverless_pypi serve --port $(PORT) $(if $(wildcard $(DIST)/*),--dist $(DIST))

clean:
	rm -rf $(VENV) .tfcli .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
