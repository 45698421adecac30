# The two commands a newcomer needs: `make test` and `make run`. Everything installs itself.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
PORT ?= 8000

.PHONY: install test unit lint typecheck run demo package clean

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

test: lint typecheck package
	$(BIN)/pytest -q

# The Auth0 sandbox plus `chalice local --stage local`; Ctrl-C stops both.
run: install
	$(BIN)/python -m sandbox.stack --port $(PORT)

# The whole journey (sale -> user with role -> token -> /courses -> refund -> 403), non-interactively.
demo: install
	$(BIN)/python -m sandbox.demo

# The CloudFormation/SAM template and deployment.zip for a stage, checked by cfn-lint.
# Deploy the result with `aws cloudformation package` + `deploy` (see README, "Deploy").
STAGE ?= prod
package: install
	@$(BIN)/python -c 'import json, sys; from pathlib import Path; from chalicelib.catalog import load_catalog; \
	  stage = json.load(open(".chalice/config.json"))["stages"]["$(STAGE)"]; \
	  load_catalog(Path(stage["environment_variables"]["COURSES_FILE"])); print("catalogue for $(STAGE): ok")'
	@rm -rf out/$(STAGE)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(BIN)/chalice package --stage $(STAGE) \
	  --merge-template .chalice/deploy-resources.json out/$(STAGE)
	$(BIN)/cfn-lint out/$(STAGE)/sam.json
	@echo "out/$(STAGE)/sam.json: cfn-lint clean; deployment.zip: $$(du -h out/$(STAGE)/deployment.zip | cut -f1)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache out
