# Roster — the two commands that matter are `make run` and `make test`.
CARGO ?= cargo
PG_CLUSTER_DIR := $(shell dirname $$(mktemp -u))/roster-test-pg

SPECTRAL := openapi/lint/node_modules/.bin/spectral

.PHONY: run test contract lint spectral fmt openapi openapi-check bench clean-test-postgres

## Start the server on the embedded SQLite default (data in ./data).
run:
	$(CARGO) run -p api --bin roster -- serve

## Every test: unit and property tests, then the HTTP tests on SQLite and PostgreSQL.
test:
	$(CARGO) test --workspace --exclude integration-tests
	$(CARGO) run -q -p openapi -- check
	$(CARGO) build -p api --bin roster
	$(CARGO) test -p integration-tests -- --test-threads=8
	@$(MAKE) -s clean-test-postgres

## schemathesis against the real server on SQLite and PostgreSQL (see openapi/contract/run.sh).
contract:
	openapi/contract/run.sh

## rustfmt and clippy, warnings are errors; Spectral on the contract.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@$(MAKE) -s spectral

## The committed contract against Spectral's OpenAPI rules: no errors, no warnings.
spectral: $(SPECTRAL)
	$(SPECTRAL) lint openapi/openapi.json --ruleset openapi/lint/.spectral.yaml --fail-severity=warn

# Spectral at the version the lockfile pins (needs Node.js and npm).
$(SPECTRAL): openapi/lint/package-lock.json
	npm ci --prefix openapi/lint --no-audit --no-fund --loglevel=error
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
