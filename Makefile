# The two commands a newcomer needs: `make run` and `make test`.
VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app callback
STAMP   := $(VENV)/.install-stamp
PO      := $(wildcard callback/translations/*/LC_MESSAGES/messages.po)
MO      := $(PO:.po=.mo)
comma   := ,

.PHONY: install run test test-sqlite test-postgres bench load lint translations

install: $(STAMP) $(MO)

$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@ --statistics

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@# The simulated dialer and a tick every minute run beside the web server and stop with it.
	$(FLASK) dialer & dialer_pid=$$!; \
	$(FLASK) tick-loop --every 60 >/dev/null & tick_pid=$$!; \
	trap 'kill $$dialer_pid $$tick_pid 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

# SQLite always; PostgreSQL too when CALLBACK_TEST_DATABASE_URL names one (CI sets it). Both passes run on
# one pytest-xdist worker per core (PYTEST_WORKERS=0 runs in one process); on PostgreSQL each worker uses its
# own database, <name>_gw0, <name>_gw1, … (tests/conftest.py creates them).
PYTEST_WORKERS ?= auto
PYTEST  := $(PYTHON) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

test: install
	env -u CALLBACK_TEST_DATABASE_URL $(PYTEST)
	@if [ -n "$$CALLBACK_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on $$CALLBACK_TEST_DATABASE_URL"; \
		$(PYTEST); \
	elif [ "$$CI" = "true" ]; then \
		echo "CI=true but CALLBACK_TEST_DATABASE_URL is not set: the PostgreSQL run is required"; exit 1; \
	fi

# Every bench at its default size, then a summary of the ratios and targets (bench/README.md). BENCH=claim,ivr
# runs only those; CALLBACK_BENCH_DATABASE_URL=postgresql+psycopg://… runs on PostgreSQL where a bench can.
bench: install
	$(PYTHON) bench/run_all.py $(subst $(comma), ,$(BENCH))

# Ten minutes of a working day on gunicorn + PostgreSQL, measured (bench/README.md, "Load test"); not part of
# test or bench. LOAD_DATABASE (default cb_load, dropped and recreated), LOAD_MINUTES, LOAD_ORDERS, LOAD_PORT.
load: install
	$(PYTHON) bench/load/run_load.py

lint: install
	$(VENV)/bin/ruff check callback tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	@# Our stubs (stubs/) against the installed Flask-Babel, Flask-Login and Flask-WTF: an upgrade that changes
	@# a signature we declared fails here.
	$(PYTHON) -m mypy.stubtest flask_babel flask_login flask_wtf --ignore-missing-stub --mypy-config-file pyproject.toml
