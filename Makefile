# Every target sets up what it needs: a fresh clone runs `make demo` or `make test` directly.
SHELL := /bin/bash
# The venv runs the Lambda runtime's Python version when this machine has one (stacks/layer_build.py looks for it), so
# that the tests and the sandbox run the handlers on the Python Lambda runs them on; else python3.
PYTHON ?= $(shell python3 -c "import sys; sys.path.insert(0, '.'); from stacks.layer_build import runtime_python; \
  print(runtime_python() or 'python3')")
VENV := .venv
PY := $(VENV)/bin/python
LAYER_DIR := build/layer
# The same packages for this machine's CPU, with the runtime's SDK: the layer's import test and the cold-start bench.
HOST_LAYER_DIR := build/layer-host
LAYER_SOURCES := stacks/layer_build.py deploy/functions.py requirements-lambda.lock requirements.lock $(wildcard certlib/*.py certlib/*/*.py)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup pebble demo test unit lint synth layer bench clean iam-report lock cdk-cli deploy diff test-under-load

setup: $(VENV)/.installed pebble

# Everything, pip included, from the dev lock: exact versions, each file checked against its hash. uv first (pip
# installs it from its lines of the lock), then uv installs the rest: 52 s -> 16 s here (pip installs one at a time).
# Bytecode compiled at install, as pip does: where PYTHONDONTWRITEBYTECODE is set (this machine), a venv without it
# compiles every module again in every process (an import of moto, boto3 and certctl: 0.45 s -> 1.1 s).
$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv --clear $(VENV)
	awk '/^uv==/ {found = 1} found {print} found && !/\\$$/ {exit}' requirements-dev.lock > $(VENV)/uv-requirement.txt
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(VENV)/uv-requirement.txt
	$(VENV)/bin/uv pip install --quiet --python $(PY) --compile-bytecode --require-hashes -r requirements-dev.lock
	touch $@

# One lock per requirements file (requirements*.lock: every file of each pinned release with its sha256), resolved
# from PyPI alone for every platform and for Python 3.11 and up: the venv runs 3.13 or 3.11, the layer is 3.13 on
# arm64 (x86_64 for the host variant). The dev lock is resolved first; the two others are held to its versions, so the
# venv tests what the layer ships. Run it after editing a requirements file; `make lock UPGRADE=1` also moves every
# pin that a requirements file leaves free to its newest release.
LOCK_PYTHON := 3.11
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --python-version $(LOCK_PYTHON) --generate-hashes \
  --index-url https://pypi.org/simple --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)

lock: | $(VENV)/.installed
	$(UV_COMPILE) requirements-dev.txt -o requirements-dev.lock
	$(UV_COMPILE) requirements.txt -c requirements-dev.lock -o requirements.lock
	$(UV_COMPILE) requirements-lambda.txt -c requirements-dev.lock -o requirements-lambda.lock

pebble:
	@command -v pebble >/dev/null || { \
	  echo "installing pebble (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pebble >/dev/null; }

# Dependencies and the shared library as a Lambda layer, built without Docker for the runtime's Python, with
# bytecode compiled by a local python3.13 (stacks/layer_build.py says where it looks).
# The two at once (each mostly waits on pip): 7 s -> 4 s on a fresh clone.
layer: | $(VENV)/.installed
	@$(MAKE) --no-print-directory -j2 $(LAYER_DIR)/.built $(HOST_LAYER_DIR)/.built

$(LAYER_DIR)/.built: $(LAYER_SOURCES) | $(VENV)/.installed
	$(PY) -m stacks.layer_build $(LAYER_DIR)

$(HOST_LAYER_DIR)/.built: $(LAYER_SOURCES) | $(VENV)/.installed
	$(PY) -m stacks.layer_build $(HOST_LAYER_DIR) --for-this-machine

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

demo: setup
	$(PY) -m certctl sandbox demo

# Every sandbox the tests start enforces IAM with the synthesized policies and leaves what its roles used in
# build/iam-usage, which `make iam-report` reads.
IAM_USAGE_DIR := build/iam-usage

# The pinned CDK CLI too, where this machine has npm (best effort: without it, the tests that run the CLI skip). Then
# `make lint` and four pytest sessions side by side (tests/sessions.py).
test: setup layer
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory cdk-cli || echo "the CDK CLI did not install: \
	  its tests are skipped"; else echo "no npm here: the tests that run the CDK CLI are skipped"; fi
	rm -rf $(IAM_USAGE_DIR)
	SANDBOX_IAM_USAGE_DIR=$(CURDIR)/$(IAM_USAGE_DIR) $(PY) -m tests.sessions

# The tests that need neither a sandbox nor a synthesis (markers set in tests/conftest.py): what to run while working.
# Two processes (pytest-xdist) for the two cores: 530 s -> 266 s side by side under a load of 12-15; UNIT_WORKERS=0 runs
# them in this one. `make test` runs them in one session beside the three shares of the sandbox and synthesis tests
# (tests/sessions.py): the secret scans (marker after_everything) read every sandbox their session started, after every
# other test, so those sessions are not split further by xdist.
UNIT_WORKERS ?= 2
unit: setup
	$(PY) -m pytest -q -p no:cacheprovider -m unit -n $(UNIT_WORKERS)

# For each function and state machine: the actions its role is granted that no test used (candidates to remove).
# Reads what the last `make test` collected; runs the suite first when there is nothing.
iam-report: setup layer
	@test -n "$$(ls $(IAM_USAGE_DIR)/*.json 2>/dev/null)" || { \
	  echo "no sandbox usage yet: running the test suite to collect it"; \
	  SANDBOX_IAM_USAGE_DIR=$(CURDIR)/$(IAM_USAGE_DIR) $(PY) -m tests.sessions; }
	$(PY) -m sandbox.iam.report $(IAM_USAGE_DIR)

# The CloudFormation template into cdk.out, offline: no AWS call, no Docker, no npm CLI. cdk-nag findings fail it.
# Override cdk.json's context with e.g. CONTEXT="-c accountsFile=config/acme-accounts.yaml -c hostedZoneIds=Z1,Z2".
synth: $(VENV)/.installed layer
	$(PY) app.py $(CONTEXT)

# The CDK CLI, pinned in package.json / package-lock.json (at least the aws-cdk-lib's minimumCliVersion), is only for
# the targets that talk to CloudFormation: `make setup`, `synth` and `test` never run npm. `npm ci` installs exactly
# the lock; `npx cdk ...` then runs that CLI (README, "Deploy to AWS").
CDK := npx --no-install cdk
CDK_CLI := node_modules/.package-lock.json

cdk-cli: $(CDK_CLI)

$(CDK_CLI): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Every stack the app prints (one per `deployments` entry and DNS account), or STACKS="name ..."; CONTEXT as for synth.
deploy: $(VENV)/.installed layer $(CDK_CLI)
	$(CDK) deploy $(or $(STACKS),--all) --outputs-file cdk-outputs.json $(CONTEXT)

# What a deploy would change, replacements included (docs/operations.md, "Upgrading").
diff: $(VENV)/.installed layer $(CDK_CLI)
	$(CDK) diff $(STACKS) $(CONTEXT)

# Benchmarks on the sandbox (bench/README.md); not part of `make test`. certbot goes into its own venv, build/bench-venv.
bench: setup layer
	$(PY) -m bench $(BENCH_ARGS)

# The fault suites beside a heavy mixed job (bench/load.py: busy loops, memory written over and over, short-lived
# processes, aws_cdk/node starts, fsynced writes), as on a noisy CI runner (issue 19). Not part of `make test`.
# LOAD_ARGS sizes the load (python -m bench.load --help); UNDER_LOAD_TESTS what runs beside it.
UNDER_LOAD_TESTS ?= tests/faults tests/security/test_stopped_execution_cleanup.py
test-under-load: setup layer
	$(PY) -m bench.load $(LOAD_ARGS) -- $(PY) -m pytest -q -p no:cacheprovider $(UNDER_LOAD_TESTS)

clean:
	rm -rf $(VENV) build cdk.out .pytest_cache .mypy_cache .ruff_cache
