# Every target sets up what it needs: a fresh clone runs `make demo` or `make test` directly.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LAMBDA_PYTHON := $(shell $(PYTHON) -c "import sys; sys.path.insert(0, '.'); from certlib.resources import LAMBDA_PYTHON_VERSION as v; print(v)")
LAMBDA_PLATFORM := manylinux2014_aarch64
LAYER_DIR := build/layer
# The Lambda Python runtime has these; the layer would only carry a second copy (30 MB of botocore).
RUNTIME_PROVIDED := boto3 botocore s3transfer jmespath
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup pebble demo test unit lint synth layer bench clean

setup: $(VENV)/.installed pebble

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-lambda.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

pebble:
	@command -v pebble >/dev/null || { \
	  echo "installing pebble (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pebble >/dev/null; }

# Dependencies and the shared library as a Lambda layer, built without Docker for the runtime's Python.
layer: $(LAYER_DIR)/.built

$(LAYER_DIR)/.built: requirements-lambda.txt $(wildcard certlib/*.py certlib/*/*.py) | $(VENV)/.installed
	rm -rf $(LAYER_DIR) && mkdir -p $(LAYER_DIR)/python
	$(PY) -m pip install --quiet --no-compile --platform $(LAMBDA_PLATFORM) --implementation cp \
	  --python-version $(LAMBDA_PYTHON) --only-binary=:all: --target $(LAYER_DIR)/python -r requirements-lambda.txt
	cd $(LAYER_DIR)/python && for package in $(RUNTIME_PROVIDED); do rm -rf $$package $$package-*.dist-info; done
	cp -r certlib $(LAYER_DIR)/python/certlib
	find $(LAYER_DIR) -name __pycache__ -type d -prune -exec rm -rf {} +
	touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

demo: setup
	$(PY) -m certctl sandbox demo

test: setup layer lint
	$(PY) -m pytest -q

# The CloudFormation template into cdk.out, offline: no AWS call, no Docker, no npm CLI. cdk-nag findings fail it.
# Override cdk.json's context with e.g. CONTEXT="-c accountsFile=config/acme-accounts.yaml -c hostedZoneIds=Z1,Z2".
synth: $(VENV)/.installed layer
	$(PY) app.py $(CONTEXT)

# Benchmarks on the sandbox (bench/README.md); not part of `make test`. certbot goes into its own venv, build/bench-venv.
bench: setup layer
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build cdk.out .pytest_cache .mypy_cache .ruff_cache
