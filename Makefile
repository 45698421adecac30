# The two commands a newcomer needs: `make test` and `make run`. Everything installs itself.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
PORT ?= 8000

.PHONY: install test unit lint typecheck actions run demo package package-check ops clean

# uv installs the pinned requirements in seconds where pip takes a minute or more (a fresh `make run` must serve
# within 90 s on 2 cores); uv itself comes from PyPI into the venv, pinned here.
UV_VERSION := 0.13.8
# The example SPA's packages (spa/package-lock.json); the stamp changes with the lock.
SPA_STAMP := spa/node_modules/.installed-$(shell cat spa/package-lock.json 2>/dev/null | sha256sum | cut -c1-12)
CHROMIUM ?= /usr/bin/chromium

.PHONY: spa-install browser

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (Lambda runtime python3.11), found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "install: Python packages into $(VENV) (uv $(UV_VERSION); first run only)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)
	@echo "install: Python packages ready"

install: $(STAMP)

$(SPA_STAMP): spa/package.json spa/package-lock.json
	@command -v npm >/dev/null || { echo "spa: npm is missing: install Node.js 20+ (Debian: apt-get install nodejs npm)"; exit 1; }
	@echo "spa: npm ci (the example SPA's packages, from spa/package-lock.json)"
	@cd spa && npm ci --no-audit --no-fund --loglevel=error
	@rm -f spa/node_modules/.installed-*
	@touch $(SPA_STAMP)

spa-install: $(SPA_STAMP)

# What the browser tests need: Debian's Chromium (installed when missing, as root with apt-get; never a downloaded
# browser build) and the SPA's packages. Without them the browser tests skip, and with CI=true they fail.
browser:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "browser: installing Debian's chromium for the browser tests (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	    || echo "browser: apt-get could not install chromium"; \
	fi
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory spa-install; \
	  else echo "browser: npm is missing, the browser tests cannot build the SPA"; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit -q

# The Auth0 post-login Action's own tests (actions/*.test.js), with Node's built-in runner: no packages to install.
actions:
	@command -v node >/dev/null || { echo "actions: node is missing: install Node.js 20+ (Debian: apt-get install nodejs)"; exit 1; }
	node --test actions/

# The suite runs on TEST_WORKERS processes (pytest-xdist; CI has 2 cores, `make test TEST_WORKERS=auto` takes them
# all). Tests that share a session's servers run in one worker: the browser journeys (tests/conftest.py).
TEST_WORKERS ?= 2

test: lint typecheck package-check browser actions
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup

# The Auth0 sandbox, the local S3 endpoint (content/), `chalice local --stage local` and the example SPA on :3000;
# Ctrl-C stops all four.
run: install spa-install
	$(BIN)/python -m devstack --port $(PORT)

# The whole journey (sale -> user with role -> token -> /courses -> lessons from the local S3 -> refund -> 403),
# non-interactively, on free ports and a throwaway tenant of its own: it runs while `make run` is up.
demo: install
	$(BIN)/python -m devstack.demo

# The CloudFormation/SAM template and deployment.zip for a stage, checked by cfn-lint.
# Deploy the result with `aws cloudformation package` + `deploy` (see docs/creator-guide.md, "Deploy").
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

# The operator commands from this checkout's virtualenv: make ops ARGS="--stack NAME dlq show". make exits 2 whatever
# the command's non-zero code (its last line, "Error N", names it): scripts run .venv/bin/python -m ops themselves.
ops: install
	@$(BIN)/python -m ops $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache out spa/node_modules spa/dist tests/browser/output
