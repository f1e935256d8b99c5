# The README's commands: `make synth`, `make test` and `make e2e`. Each sets up what it needs
# first (a virtualenv with pinned packages, Node >= 22 inside it, the pinned CDK CLI; for e2e
# also MiniStack's own virtualenv) and is a no-op for set-up when nothing changed.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
PYTHON_SETUP := $(VENV)/.installed
NODE_SETUP := node_modules/.installed
# MiniStack in its own virtualenv: it pins botocore exactly, and the Lambda handlers it runs
# import boto3 from it (tools/e2e/requirements.txt pins both to match).
E2E_VENV := .e2e-venv
E2E_SETUP := $(E2E_VENV)/.installed

# The venv's bin first: its Node 24 runs jsii and the CDK CLI, its python the app.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: help setup synth test compat e2e integ snapshots catalog diff benchmark lint lock clean

CHECKOV_SETUP := .venv-checkov/.installed

help:  ## list the targets and what each does
	@awk -F ':.*## ' '/^[a-z0-9]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(PYTHON_SETUP) $(NODE_SETUP)  ## what both commands set up first

synth: $(PYTHON_SETUP) $(NODE_SETUP)  ## synthesize every reference stack into cdk.out/ (cdk-nag runs)
	node_modules/.bin/cdk synth --quiet

test: $(PYTHON_SETUP)  ## run the whole test suite (checkov included)
	$(PYTHON) -m pytest

compat: $(PYTHON_SETUP)  ## the wheel in a fresh venv: a user app, and the lowest declared aws-cdk-lib
	$(PYTHON) -m tools.compat

e2e: $(PYTHON_SETUP) $(NODE_SETUP) $(E2E_SETUP)  ## deploy every reference stack to MiniStack, run tests/e2e
	$(PYTHON) -m tools.e2e

integ: $(PYTHON_SETUP) $(NODE_SETUP)  ## deploy, exercise, destroy every reference stack in YOUR AWS account (integ/README.md); never part of `make test`
	$(PYTHON) -m tools.integ $(INTEG_APPS)

snapshots: $(PYTHON_SETUP)  ## re-pin the reference templates after an intended change
	$(PYTHON) -m pytest tests/test_snapshots.py --snapshot-update

catalog: $(PYTHON_SETUP)  ## regenerate the generated blocks of the catalog pages
	$(PYTHON) -m tools.catalog

diff: $(PYTHON_SETUP) $(NODE_SETUP)  ## per stack, what the code changes versus the pinned templates
	$(PYTHON) -m tools.review_diff

benchmark: $(PYTHON_SETUP) $(NODE_SETUP)  ## timings and budgets (see README); not part of the tests
	$(PYTHON) -m tools.benchmark

lint: $(PYTHON_SETUP)  ## ruff (lint rules, complexity, format) and mypy (types of the library and examples)
	$(VENV)/bin/ruff check constructs examples integ tests tools
	$(VENV)/bin/ruff format --check constructs examples integ tests tools
	$(VENV)/bin/mypy

lock:  ## re-resolve constraints.txt from pyproject.toml (then review the diff)
	rm -rf /tmp/serverless-patterns-lock && python3 -m venv /tmp/serverless-patterns-lock
	/tmp/serverless-patterns-lock/bin/pip install -q -e '.[dev]'
	/tmp/serverless-patterns-lock/bin/pip freeze --exclude-editable | sort > constraints.txt

$(PYTHON_SETUP): pyproject.toml constraints.txt $(CHECKOV_SETUP)
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

# checkov pins packages that clash with the suite's (boto3, networkx): it gets its own venv.
$(CHECKOV_SETUP): constraints-checkov.txt
	test -x .venv-checkov/bin/python || python3 -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install -q --disable-pip-version-check -r constraints-checkov.txt
	touch $@

$(NODE_SETUP): package.json package-lock.json $(PYTHON_SETUP)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# .venv's pip installs into it (--python): no second pip, no byte-compiling 20 MB (~6 s, not 25).
$(E2E_SETUP): tools/e2e/requirements.txt $(PYTHON_SETUP)
	test -x $(E2E_VENV)/bin/python || python3 -m venv --without-pip $(E2E_VENV)
	$(PYTHON) -m pip --python $(E2E_VENV)/bin/python install -q --disable-pip-version-check \
		--no-deps --no-compile -r tools/e2e/requirements.txt
	$(PYTHON) -m pip --python $(E2E_VENV)/bin/python check --disable-pip-version-check
	touch $@

clean:  ## remove every virtualenv, node_modules and cdk.out
	rm -rf $(VENV) .venv-checkov $(E2E_VENV) .e2e node_modules cdk.out
