# Tenfold: `make run` to try it on this machine, `make test` for the whole test suite.
PYTHON ?= python3
BIN := .venv/bin

.PHONY: run test lint venv messages compilemessages bench

# Creates .venv when missing; reinstalls only when pyproject.toml changed (stamp in .venv).
venv:
	@$(PYTHON) scripts/bootstrap.py

run: venv
	$(BIN)/tenfold migrate
	$(BIN)/tenfold demo --if-empty
	$(BIN)/python scripts/run.py

test:
	$(PYTHON) scripts/test.py

# Benchmarks (docs/benchmarks.md): throw-away databases, loopback only, never in CI. Needs PostgreSQL on
# 127.0.0.1:5432 (or BENCH_ARGS=--sqlite) and, for the capacity figures, wrk (apt-get install wrk).
BENCH_ARGS ?=
bench: venv
	$(BIN)/python -m bench all $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy tenfold
	$(BIN)/lint-imports
	$(BIN)/tenfold manage makemigrations --check --dry-run

# The French catalogue (tenfold/locale/fr/LC_MESSAGES/django.po): `make messages` collects new strings,
# translate them in the .po, then `make compilemessages` writes the django.mo kept beside it.
I18N_ENV := TENFOLD_DEBUG=1 DJANGO_SETTINGS_MODULE=tenfold.config.settings

messages: venv
	cd tenfold && $(I18N_ENV) ../$(BIN)/python -m django makemessages -l fr --no-obsolete --ignore "*/tests/*" --ignore conftest.py

compilemessages: venv
	cd tenfold && $(I18N_ENV) ../$(BIN)/python -m django compilemessages -l fr
