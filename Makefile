# Fayuan: the developer's verbs. A fresh machine needs only python3 (3.11) and make:
# the first target that needs the environment creates it with uv from the lock file.

PY      := .venv/bin/python
UV      := python3 -m uv
PYTEST  := .venv/bin/pytest

.DEFAULT_GOAL := help
.PHONY: help env run test test-kernel lint audit token bench bench-growth asyncapi openapi settings-doc k8s kafka clean

help: ## list the verbs
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.venv/.synced: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --python python3.11
	@touch $@

env: .venv/.synced ## create or update the environment (.venv) from uv.lock

run: .venv/.synced ## start PostgreSQL, the broker and the five services, restart whichever dies (devstack/; Ctrl-C stops)
	$(PY) -m devstack run

test: .venv/.synced ## every test: lint, import contract, types, kernel, services, cross-service
	.venv/bin/ruff check shared services tests bench scripts devstack
	.venv/bin/lint-imports
	.venv/bin/mypy
	.venv/bin/bandit -c pyproject.toml -r shared services devstack -q
	$(PYTEST) -q -n 4 --dist loadfile

test-kernel: .venv/.synced ## the kernel's store/outbox/inbox tests (honours DATABASE_URL)
	$(PYTEST) -q -n 4 --dist loadfile shared

lint: .venv/.synced ## ruff (its S rules included), the import contract, mypy and bandit
	.venv/bin/ruff check shared services tests bench scripts devstack
	.venv/bin/lint-imports
	.venv/bin/mypy
	.venv/bin/bandit -c pyproject.toml -r shared services devstack -q

audit: .venv/.synced ## security scans: bandit on the code, pip-audit on uv.lock's versions (docs/security.md)
	.venv/bin/bandit -c pyproject.toml -r shared services devstack -q
	$(PY) scripts/audit.py

ROLE ?= agency_staff
token: .venv/.synced ## a dev bearer token for `make run`: make token ROLE=case_handler ARGS="--handler-id H1"
	@$(PY) -m shared.cli token --role $(ROLE) $(ARGS)

bench: .venv/.synced ## benchmarks: throughput against bare baselines, peak memory per process
	$(PY) -m bench

bench-growth: .venv/.synced ## how costs grow with the history (none/small/medium; ARGS=--national adds a national year)
	$(PY) -m bench.growth $(ARGS)

asyncapi: .venv/.synced ## regenerate docs/asyncapi.yaml from the event models
	$(PY) -m shared.asyncapi > docs/asyncapi.yaml

openapi: .venv/.synced ## regenerate docs/openapi/<service>.json from the five apps (docs/api.md)
	$(PY) -m tests.contract.openapi --write

settings-doc: .venv/.synced ## regenerate docs/settings.md and .env.example from the settings classes
	$(PY) -m tests.docs.settings --write

k8s: .venv/.synced ## print the rendered prod manifests (kustomize)
	.venv/bin/kubectl kustomize deploy/k8s/overlays/prod

kafka: .venv/.synced ## Apache Kafka's own broker from Maven Central, on a local port (Ctrl-C stops)
	bash scripts/kafka.sh run

clean: ## remove the environment and local data
	rm -rf .venv .fayuan .pytest_cache
