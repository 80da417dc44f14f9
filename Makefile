# T5G. `make run` starts the whole product; `make test` checks it. Both set up a fresh machine first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Debian packages the product needs: Redis (broker + cache), xmlsec1 (SAML signatures), Node's npm
# (front-end libraries from package-lock.json), PostgreSQL and Chromium (the test suite's database and browser).
SYSTEM_PACKAGES := redis-server xmlsec1 nodejs postgresql chromium
WEB_PORT ?= 8000
REDIS_PORT ?= 6391
SANDBOX_PORT ?= 8800
SANDBOX_CASES ?= 2000
# With no real upstream configured (in the environment, on make's command line or in .env), `make run` serves
# the sandbox and points T5G at it.
ENV_FILE_UPSTREAMS := $(shell grep -sE '^[[:space:]]*(export[[:space:]]+)?(PORTAL_URL|JIRA_URL|BUGZILLA_URL)=[^[:space:]]' .env)
USE_SANDBOX := $(if $(PORTAL_URL)$(JIRA_URL)$(BUGZILLA_URL)$(ENV_FILE_UPSTREAMS),,yes)
SANDBOX_URL := http://127.0.0.1:$(SANDBOX_PORT)
# The variables that point T5G at the sandbox (`python -m sandbox env`), for every process honcho starts.
SANDBOX_ENV := var/sandbox.env
comma := ,

.PHONY: setup system-packages static run test test-sqlite test-pg test-scale lint bench soak screenshots

setup: system-packages $(VENV)/.installed node_modules/.installed static

system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo -n "$$p "; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing system packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "Missing system packages: $$missing-- install them (sudo apt-get install $$missing) and re-run." >&2; \
			exit 1; \
		fi; \
	fi
	@# Debian's nodejs leaves npm to its own package; NodeSource's ships it (and conflicts with that package).
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; } \
		|| { echo "npm is missing: sudo apt-get install npm" >&2; exit 1; }

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static: $(VENV)/.installed node_modules/.installed
	@# var/ holds the SQLite database (sessions included), keys and passwords: T5G's user's only.
	@mkdir -p var && chmod 700 var
	DEBUG=true $(PY) manage.py collectstatic --no-input -v0

# Everything on embedded defaults: SQLite in var/, a private Redis, gunicorn, a worker and beat.
# Set REDIS_URL to use your own Redis instead of starting one.
# With real upstreams T5G needs a SECRET_KEY (environment or .env).
# `make run` never turns DEBUG on by itself (ask for it: `make run DEBUG=true`): with DEBUG, Django answers a
# 404 with its debug page listing every URL pattern instead of T5G's own. What the demo needed DEBUG for, it
# gets otherwise: a SECRET_KEY made once for this machine (var/secret-key) and readable log lines.
ifdef USE_SANDBOX
run: export SECRET_KEY ?= $(shell cat var/secret-key 2>/dev/null)
run: export LOG_FORMAT ?= text
endif
# What the announce process (Procfile) prints last, once everything is up.
run: export T5G_SIGN_IN := $(if $(USE_SANDBOX),Sign in as member/member or admin/admin.,Sign in through your identity provider.)
run: export T5G_LINKS = Health: $(SITE_URL)/health/  Flower: http://127.0.0.1:$(or $(FLOWER_PORT),5555)/ (user and password in var/flower-auth)
run: export T5G_UPSTREAMS := $(if $(USE_SANDBOX),No real upstream configured: the sandbox at $(SANDBOX_URL) ($(SANDBOX_CASES) cases) stands in.,Upstreams: as configured.)
run: export WEB_PORT := $(WEB_PORT)
run: export REDIS_PORT := $(REDIS_PORT)
# The private Redis has a password made once for this machine (var/redis.conf): whoever can write to T5G's Redis
# runs code as T5G (pickled cache entries, queued tasks), and every local user can reach 127.0.0.1.
run: export REDIS_URL ?= redis://:$(shell sed -n 's/^requirepass //p' var/redis.conf 2>/dev/null)@127.0.0.1:$(REDIS_PORT)/0
run: export SITE_URL ?= http://127.0.0.1:$(WEB_PORT)
run: export SANDBOX_PORT := $(SANDBOX_PORT)
run: export SANDBOX_CASES := $(SANDBOX_CASES)
run: setup var/redis.conf $(if $(USE_SANDBOX),var/secret-key)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py setup_schedules --first-refresh
	@# Flower (task monitoring) signs in with FLOWER_BASIC_AUTH, or a password made once for this machine.
	@test -n "$$FLOWER_BASIC_AUTH" -o -s var/flower-auth || \
		(umask 077; echo "admin:$$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" > var/flower-auth)
	@echo "T5G starting$(if $(filter true,$(DEBUG)), with DEBUG on): its address and sign-ins are printed last, once it is up."
ifdef USE_SANDBOX
	@# What this shell or .env (read after this file) sets wins over the sandbox's value, as over a default.
	@$(PY) -m sandbox env --url $(SANDBOX_URL) | while IFS= read -r line; do \
		name=$${line%%=*}; [ -n "$${!name+set}" ] || echo "$$line"; done > $(SANDBOX_ENV)
	@# The sandbox's engineers for an empty team, once it answers; in the background, as honcho stops
	@# everything when one of its processes exits.
	($(PY) manage.py load_team $(SANDBOX_URL)/_sandbox/team --if-empty --wait 120 &)
	@# `demo` registers T5G's webhook in the sandbox's JIRA (a change there shows on open pages in seconds), makes the
	@# sandbox's biggest accounts SLA partners once (import_t5gweb) and draws past weeks of stats history.
endif
	exec $(VENV)/bin/honcho --procfile Procfile $(if $(USE_SANDBOX),--env $(SANDBOX_ENV)$(comma).env) start \
		$(if $(findstring $(REDIS_PORT),$(REDIS_URL)),redis) $(if $(USE_SANDBOX),sandbox demo) web worker beat flower announce

var/secret-key:
	@mkdir -p var && chmod 700 var
	@(umask 077; head -c 48 /dev/urandom | base64 | tr -d '/+=\n' > $@)

var/redis.conf:
	@mkdir -p var && chmod 700 var
	@(umask 077; echo "requirepass $$(head -c 24 /dev/urandom | base64 | tr -d '/+=')" > $@)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The layering (pyproject.toml [tool.importlinter]; docs/architecture.md).
	$(VENV)/bin/lint-imports
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

# The whole suite on SQLite, then again on a throwaway PostgreSQL, then a short soak (3 to 5 minutes; JIRA Server).
test: setup lint
	tests/run sqlite
	tests/run postgres
	$(PY) -m tests.soak --minutes 2 --cases 2000 --jira-flavor server

test-sqlite: setup
	tests/run sqlite

test-pg: setup
	tests/run postgres

# The integration tests in the scale-out topology: PostgreSQL, a Redis with a password, and two
# workers on separate queues (tests/test_scale.py) beside the worker-based tests.
SCALE_TESTS := tests/test_scale.py tests/test_sync_runs.py tests/test_refresh.py tests/test_beat.py \
	tests/test_notify.py tests/test_health.py tests/test_redis_down.py
test-scale: setup
	T5G_TEST_REDIS_PASSWORD=scale-$$RANDOM tests/run postgres $(SCALE_TESTS)

# Every page at 1440×900 and 390×844, light and dark, into docs/screenshots/ (the browser tests' stack).
screenshots: setup
	SCREENSHOTS=$(CURDIR)/docs/screenshots tests/run sqlite tests/browser/test_fit.py -k screenshots

# Benchmarks against the sandbox at each size; exits non-zero when a budget is missed. Not part of `make test`.
# ONLY: some sections, e.g. `make bench SIZES=1000 ONLY=live`.
SIZES ?= 1000,10000,100000
bench: setup $(VENV)/.bench-installed
	$(PY) -m tests.bench --sizes $(SIZES) $(if $(ONLY),--only $(ONLY))

# The benchmark's own packages (locust for the load test), apart from the product's.
$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $@

# The whole product under stress with real processes (tests/soak.py; docs/reliability.md): faults of every kind,
# churn, killed workers, a Redis restart, a read-only phase, then the invariants. Exits non-zero on a violation;
# writes its figures to docs/reliability.md.
MINUTES ?= 10
CASES ?= 10000
soak: setup
	$(PY) -m tests.soak --minutes $(MINUTES) --cases $(CASES) --output docs/reliability.md
