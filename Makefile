# Roster — the two commands that matter are `make run` and `make test`.
CARGO ?= cargo
PG_CLUSTER_DIR := $(shell dirname $$(mktemp -u))/roster-test-pg

SPECTRAL := openapi/lint/node_modules/.bin/spectral
REDOCLY := openapi/lint/node_modules/.bin/redocly
OPENAPI_GENERATOR := target/lint-venv/bin/openapi-generator-cli
# The OpenID providers the single sign-on tests start (needs Node.js and npm).
TEST_OPENID_PROVIDER := integration-tests/oidc/node_modules/oidc-provider/package.json

.PHONY: run test contract walkthrough lint spectral openapi-generator fmt openapi openapi-check bench clean-test-postgres

## Start the server on the embedded SQLite default (data in ./data).
run:
	$(CARGO) run -p api --bin roster -- serve

## Every test: unit and property tests, then the HTTP tests on SQLite and PostgreSQL.
test: $(TEST_OPENID_PROVIDER)
	$(CARGO) test --workspace --exclude integration-tests
	$(CARGO) run -q -p openapi -- check
	$(CARGO) build -p api --bin roster
	$(CARGO) test -p integration-tests -- --test-threads=8
	@$(MAKE) -s clean-test-postgres

## schemathesis against the real server on SQLite and PostgreSQL (see openapi/contract/run.sh).
contract:
	openapi/contract/run.sh

## The README's walkthrough, run as written against a fresh server.
walkthrough: $(TEST_OPENID_PROVIDER)
	.ci/walkthrough

## rustfmt and clippy, warnings are errors; Spectral and Redocly on the contract.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@$(MAKE) -s spectral
	@$(MAKE) -s openapi-generator

## The committed contract against Spectral's OpenAPI rules and Redocly's
## recommended ones: no errors, no warnings.
spectral: $(SPECTRAL)
	$(SPECTRAL) lint openapi/openapi.json --ruleset openapi/lint/.spectral.yaml --fail-severity=warn
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY) lint openapi/openapi.json --config openapi/lint/redocly.yaml --format=stylish

## The committed contract as openapi-generator reads it (what client
## generators refuse, it refuses), with no flags.
openapi-generator: $(OPENAPI_GENERATOR)
	$(OPENAPI_GENERATOR) validate -i openapi/openapi.json

# openapi-generator at the version openapi/lint/requirements.txt pins (PyPI's
# package bundles the jar; needs Python and a Java runtime).
$(OPENAPI_GENERATOR): openapi/lint/requirements.txt
	python3 -m venv target/lint-venv
	target/lint-venv/bin/pip install -q --disable-pip-version-check -r openapi/lint/requirements.txt
	@touch $@

# Spectral and Redocly at the versions the lockfile pins (needs Node.js and npm).
$(SPECTRAL): openapi/lint/package-lock.json
	npm ci --prefix openapi/lint --no-audit --no-fund --loglevel=error
	@touch $@

$(TEST_OPENID_PROVIDER): integration-tests/oidc/package-lock.json
	npm ci --prefix integration-tests/oidc --no-audit --no-fund --loglevel=error
	@touch $@

fmt:
	$(CARGO) fmt --all

## Regenerate openapi/openapi.json from the code.
openapi:
	$(CARGO) run -q -p openapi -- write

openapi-check:
	$(CARGO) run -q -p openapi -- check

## Stop the throwaway PostgreSQL the test harness starts when no server runs.
clean-test-postgres:
	@if [ -f "$(PG_CLUSTER_DIR)/postmaster.pid" ]; then \
		bin=$$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); \
		if [ "$$(id -u)" = 0 ]; then runuser -u postgres -- $$bin/pg_ctl -D "$(PG_CLUSTER_DIR)" -m fast stop; \
		else $$bin/pg_ctl -D "$(PG_CLUSTER_DIR)" -m fast stop; fi; \
	fi
