# FinFlow: `make dev` runs the whole system on localhost; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/common/python

.PHONY: dev test test-unit test-api test-e2e test-infra test-localstack install clean-local synth deploy deploy-localstack \
        rebuild-reporting bench cascade schemas test-contract fuzz localstack-up localstack-down lint format \
        install-dev-server lock typecheck

# Every install takes its versions from the lock (requirements/dev.lock: all extras, Python 3.11+,
# any platform); `make lock` refreshes it after a change to pyproject.toml's dependencies.
LOCK := requirements/dev.lock
# setuptools warns on every editable install that a folder named like a package may shadow it:
# here the folders are the packages
EDITABLE := PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet -c $(LOCK) -e

# Everything `make test` needs: tests, gates and the CDK app (jsii, cdk-nag: the heavy part).
$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(EDITABLE) ".[dev,infra]"
	$(PY) -m infra_cdk.assets  # the Lambda dependencies layer, so a synth needs no network
	touch $(VENV)/.installed-dev-server $@

# What `make dev` needs: the runtime and the local runner (moto, embedded PostgreSQL), no CDK.
$(VENV)/.installed-dev-server: pyproject.toml $(LOCK)
	@echo "installing the runtime and the local runner from $(LOCK)..."
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(EDITABLE) ".[devserver]"
	touch $@

install: $(VENV)/.installed

install-dev-server: $(VENV)/.installed-dev-server

dev: install-dev-server
	$(PY) -m devserver

# Re-pins every dependency: the versions already locked stay unless pyproject.toml rules them out
# (UPGRADE=1: the newest allowed). The runtime lock, which the Lambda dependencies layer is built
# from, takes the same versions as the full one.
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--custom-compile-command "make lock" --quiet
lock: $(VENV)/bin/uv
	$(UV_COMPILE) --all-extras $(if $(UPGRADE),--upgrade) -o $(LOCK)
	$(UV_COMPILE) -c $(LOCK) -o requirements/runtime.lock

$(VENV)/bin/uv:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c $(LOCK) uv

test: install lint
	$(PY) -m pytest -q

# Gates: lint and format (ruff), then types (mypy); `make format` applies ruff's fixes.
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@$(MAKE) --no-print-directory typecheck

# What it checks is [tool.mypy] in pyproject.toml; its cache (.local/mypy) makes a second run quick.
typecheck: install
	$(PY) -m mypy

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test-unit: install
	$(PY) -m pytest -q tests/unit

test-api: install
	$(PY) -m pytest -q tests/api

test-e2e: install
	$(PY) -m pytest -q tests/e2e

test-contract: install
	$(PY) -m pytest -q tests/contract

test-infra: install
	$(PY) -m pytest -q tests/infra

test-localstack: install
	$(PY) -m pytest -q -rs tests/localstack

# A real LocalStack (Lambda in Docker) and a PostgreSQL on 127.0.0.1: tools/localstack/README.md
localstack-up:
	tools/localstack/up

localstack-down:
	tools/localstack/down

# -- infrastructure (CDK) ----------------------------------------------------------------
# jsii runs on the machine's Node (20 works, with a warning we silence); no CLI, no network.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := true
export CDK_DISABLE_CLI_TELEMETRY := true
TARGET ?= aws
STAGE ?= dev
CDK_CLI := npx --yes aws-cdk@$(CDK_CLI_VERSION)
CDK_CLI_VERSION := 2.1148.1
CDKLOCAL_VERSION := 3.0.4
synth: install
	rm -rf cdk.out
	CDK_OUTDIR=cdk.out $(PY) -m infra_cdk.app -c target=$(TARGET) -c stage=$(STAGE)
	@ls cdk.out/*.template.json

# STACKS="FinFlow-Payment ...": only those stacks (expand/contract: readers first); every deploy is
# gated on the contracts the stage runs (tools/contracts_deploy.py) and records them once done.
STACKS ?=
CDK_STACKS = $(if $(STACKS),--exclusively $(STACKS),--all)
deploy: install
	$(PY) -m tools.contracts_deploy gate --target aws --stage $(STAGE) --stacks "$(STACKS)"
	$(CDK_CLI) deploy $(CDK_STACKS) --no-notices --require-approval broadening -c target=aws -c stage=$(STAGE)
	$(PY) -m tools.contracts_deploy record --target aws --stage $(STAGE) --stacks "$(STACKS)"

# Every stack on a running LocalStack (make localstack-up), then the deploy steps its community
# edition cannot run as custom resources; outputs in .local/localstack-outputs.json.
deploy-localstack: install
	CDK_CLI_VERSION=$(CDK_CLI_VERSION) CDKLOCAL_VERSION=$(CDKLOCAL_VERSION) STAGE=$(STAGE) PY=$(PY) STACKS="$(STACKS)" \
	  tools/localstack/deploy

# Reporting's read model rebuilt from the producers' outboxes (DATABASE_URL: what `make dev`
# prints as "database"); ARGS="--order shuffled --seed 7", or "--source archive" in AWS.
rebuild-reporting: install
	$(PY) -m functions.reporting.rebuild $(ARGS)

clean-local:
	rm -rf .local cdk.out

# Deeper fuzzing, the ledger model and the soak (not part of `make test`): FUZZ_EXAMPLES per
# operation and generation mode, FUZZ_SEED for other examples; LEDGER_MODEL_EXAMPLES runs of
# LEDGER_MODEL_STEPS steps; SOAK_SECONDS of SOAK_CLIENTS clients.
# Figures in .local/fuzz.json and .local/soak.json.
FUZZ_EXAMPLES ?= 50
LEDGER_MODEL_EXAMPLES ?= 50
LEDGER_MODEL_STEPS ?= 30
SOAK_SECONDS ?= 60
fuzz: install
	LEDGER_MODEL_EXAMPLES=$(LEDGER_MODEL_EXAMPLES) LEDGER_MODEL_STEPS=$(LEDGER_MODEL_STEPS) \
	  $(PY) -m pytest -q tests/api/test_ledger_model.py
	FINFLOW_FUZZ=1 FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) SOAK_SECONDS=$(SOAK_SECONDS) \
	  $(PY) -m pytest -q -s tests/e2e/test_fuzz_openapi.py tests/e2e/test_soak.py

# The chaos soak (`make test` runs 40 s of it): CHAOS_SECONDS of CHAOS_CLIENTS clients on a devserver
# of its own while a seeded schedule kills workers, restarts PostgreSQL, stops the AWS endpoint and
# takes modules down; CHAOS_SEED=<n> replays a run's schedule. Figures in .local/chaos.json.
CHAOS_SECONDS ?= 600
CHAOS_CLIENTS ?= 6
.PHONY: chaos
chaos: install
	CHAOS_SECONDS=$(CHAOS_SECONDS) CHAOS_CLIENTS=$(CHAOS_CLIENTS) $(if $(CHAOS_SEED),CHAOS_SEED=$(CHAOS_SEED)) \
	  $(PY) -m pytest -q -s tests/e2e/test_chaos.py

# Benchmarks (not part of `make test`): rewrites docs/benchmarks.md. BENCH_QUICK=1 for a short run.
bench: install
	$(PY) -m bench

# Blast radius of a change (CHANGE=auth, auth.UserView or auth.UserView.kyc_status); without
# CHANGE, the module graph from the catalog: docs/cascade.svg and docs/cascade.md.
cascade: install
	$(PY) -m tools.cascade $(CHANGE) $(if $(BASE),--base $(BASE)) $(if $(DEPLOYED),--deployed $(DEPLOYED))

# Every cross-module contract from the code into contracts/ (and events/schemas/): tools/contracts.py
.PHONY: contracts contracts-check
contracts: install
	$(PY) -m tools.contracts

# Contract changes between BASE (default: the last v* tag, else the merge base with main) and the
# work tree: breaking ones must raise the contract's version and change every reader they reach.
contracts-check: install
	$(PY) -m tools.contracts_check $(if $(BASE),--base $(BASE))

# Event JSON Schemas from the producer contracts: events/schemas/<DetailType>.json
schemas: install
	$(PY) -m tools.schemas

# One OpenAPI 3.1 document for the whole public API, from every module's routes: docs/openapi.json
.PHONY: openapi client
openapi: install
	$(PY) -m tools.openapi

# The Python client in examples/client, generated offline from docs/openapi.json by a pinned
# openapi-python-client in an environment of its own (it wants an older httpx than FinFlow's).
OPENAPI_CLIENT_GEN := .local/openapi-client-gen
OPENAPI_PYTHON_CLIENT_VERSION := 0.29.1
client: $(OPENAPI_CLIENT_GEN)/.installed-$(OPENAPI_PYTHON_CLIENT_VERSION)
	PATH="$(CURDIR)/$(OPENAPI_CLIENT_GEN)/bin:$$PATH" $(OPENAPI_CLIENT_GEN)/bin/openapi-python-client generate \
	  --path docs/openapi.json --config examples/openapi-client.yml --output-path examples/client --overwrite --meta uv
	$(PY) -m ruff format --quiet examples/client

$(OPENAPI_CLIENT_GEN)/.installed-$(OPENAPI_PYTHON_CLIENT_VERSION):
	$(PYTHON) -m venv $(OPENAPI_CLIENT_GEN)
	$(OPENAPI_CLIENT_GEN)/bin/pip install --quiet openapi-python-client==$(OPENAPI_PYTHON_CLIENT_VERSION)
	touch $@
