# Partage: two commands for a newcomer.
#   make run   sets up .venv, installs, migrates the database, starts the bot
#   make test  sets up .venv, installs, runs the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean i18n

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.rsvp

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Re-extract the French source strings and update the English catalog (then fill empty msgstr).
i18n: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -o bot/locales/partage.pot --project=Partage --version=0.1.0 .
	$(BIN)/pybabel -q update -i bot/locales/partage.pot -d bot/locales -D partage -l en --no-fuzzy-matching --ignore-obsolete
