# serverless-pypi: `make test` runs everything CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Playwright drives the system's Chromium (`make browser`); it never downloads one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

# Terraform reads its providers from this machine's mirror when there is one.
export TF_CLI_CONFIG_FILE := $(shell scripts/terraform-cli-config.sh)
export TF_IN_AUTOMATION := 1

.PHONY: test lint fmt unit package package-check serve bench bench-full e2e clean venv docs
.PHONY: browser screenshots
.PHONY: tf-fmt tf-init tf-validate tf-test

test: lint package-check tf-validate tf-test unit e2e ## everything CI runs

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

PY_PATHS := src tests scripts bench

lint: $(STAMP) tf-fmt ## ruff, mypy --strict, terraform fmt
	$(BIN)/ruff check $(PY_PATHS)
	$(BIN)/ruff format --check $(PY_PATHS)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format $(PY_PATHS)
	$(BIN)/ruff check --fix $(PY_PATHS)
	timeout 60 terraform fmt -recursive

unit: $(STAMP) ## tests/unit: handlers and pure functions, in-process on moto, on 2 workers (under a minute)
	$(BIN)/pytest -q -n 2 tests/unit

e2e: $(STAMP) browser ## tests/e2e: terraform apply on moto, pip/uv/twine/aws CLI, Chromium end to end (minutes)
	$(BIN)/pytest -q tests/e2e

browser: ## Debian's chromium for the browser tests (apt-get, as root), unless one is there
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

screenshots: $(STAMP) browser ## docs/images/ui-*.png: both pages, light and dark, from a seeded `serve`
	$(BIN)/python scripts/ui_screenshots.py

bench: $(STAMP) ## the benchmark at smaller sizes (about a minute): bench/results-quick.json
	$(BIN)/python bench/run.py

bench-full: $(STAMP) ## the benchmark at full sizes (a few minutes): bench/results.json
	$(BIN)/python bench/run.py --full

# CPythons 3.11 to 3.14 to compile the package's bytecode with, beside python3.XY on PATH:
# make package LAMBDA_PYTHONS="/opt/python3.12/bin/python3.12 ..."
LAMBDA_PYTHONS ?=
package: $(STAMP) ## rebuild package/serverless-pypi.zip from src/, with bytecode per runtime
	$(BIN)/python scripts/build_lambda.py $(foreach python,$(LAMBDA_PYTHONS),--python $(python))

docs: $(STAMP) ## rewrite docs/reference.md's inputs and outputs tables from variables.tf / outputs.tf
	$(BIN)/python scripts/doc_tables.py

package-check: $(STAMP)
	$(BIN)/python scripts/build_lambda.py --check

DIST ?= dist
PORT ?= 8000
# e.g. make serve SERVE_ARGS="--fallback https://pypi.org/simple/ --upstream-mode proxy --cooldown 7d"
SERVE_ARGS ?=
serve: $(STAMP) ## the index on loopback with an embedded S3, seeded from ./dist if present
	$(BIN)/python -m serverless_pypi serve --auth --port $(PORT) $(if $(wildcard $(DIST)/*),--dist $(DIST)) $(SERVE_ARGS)

clean:
	rm -rf $(VENV) .tfcli .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Terraform: the module (root) and examples/basic. Every command has a time
# limit; without terraform these targets fail (CI must not skip them).
TERRAFORM ?= terraform
TF := timeout 900 $(TERRAFORM)

tf-fmt: ## terraform fmt -check, every .tf and .tftest.hcl file
	$(TF) fmt -check -recursive -diff

tf-init: ## terraform init (no backend) of the module and the example
	$(TF) init -backend=false -input=false -no-color > /dev/null
	$(TF) -chdir=examples/basic init -backend=false -input=false -no-color > /dev/null

tf-validate: tf-init ## terraform validate, module and example
	$(TF) validate -no-color
	$(TF) -chdir=examples/basic validate -no-color

tf-test: tf-init ## terraform test: tests/*.tftest.hcl, plan-level, mocked provider
	$(TF) test -no-color
