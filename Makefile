# The two commands a newcomer needs: `make test` and `make run`. Everything installs itself.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
PORT ?= 8000

.PHONY: install test unit lint typecheck run demo package package-check ops clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (Lambda runtime python3.11), found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit -q

test: lint typecheck package-check
	$(BIN)/pytest -q

# The Auth0 sandbox plus `chalice local --stage local`; Ctrl-C stops both.
run: install
	$(BIN)/python -m sandbox.stack --port $(PORT)

# The whole journey (sale -> user with role -> token -> /courses -> refund -> 403), non-interactively.
demo: install
	$(BIN)/python -m sandbox.demo

# The CloudFormation/SAM template and deployment.zip for a stage, checked by cfn-lint.
# Deploy the result with `aws cloudformation package` + `deploy` (see README, "Deploy").
# A placeholder in the stage's settings or catalogue stops it (exit 2), naming each.
STAGE ?= prod
PROJECT ?= .
OUT ?= out/$(STAGE)
package: install
	@$(BIN)/python -m ops.packaging check --stage $(STAGE) --project $(PROJECT)
	@rm -rf $(OUT)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(BIN)/chalice --project-dir $(PROJECT) package \
	  --stage $(STAGE) --merge-template $(abspath .chalice/deploy-resources.json) $(abspath $(OUT))
	$(BIN)/cfn-lint $(OUT)/sam.json
	@$(BIN)/python -m ops.packaging runtime $(OUT)/sam.json
	@echo "$(OUT)/sam.json: cfn-lint clean; deployment.zip: $$(du -h $(OUT)/deployment.zip | cut -f1)"

# What CI packages: `prod` exactly as a seller would, from a copy of the app whose catalogue is a test
# one (chalicelib/courses.json ships placeholders, which `make package STAGE=prod` rightly refuses).
package-check: install
	@rm -rf out/package-check && mkdir -p out/package-check/project
	@cp -r app.py chalicelib .chalice requirements.txt out/package-check/project/
	@cp tests/fixtures/deploy/courses.json out/package-check/project/chalicelib/courses.json
	@$(MAKE) --no-print-directory package STAGE=prod PROJECT=out/package-check/project OUT=out/package-check/prod

# The operator commands from this checkout's virtualenv: make ops ARGS="--stack NAME dlq show"
ops: install
	@$(BIN)/python -m ops $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache out
