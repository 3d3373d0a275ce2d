# Partage: two commands for a newcomer.
#   make run   sets up .venv, installs, migrates the database, starts the bot
#   make test  sets up .venv, installs, runs the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean i18n lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The versions tested together (requirements.lock), then Partage itself without resolving again.
$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# After changing a dependency range in pyproject.toml: pin the newest versions within them.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu --upgrade -o requirements.lock

run: $(STAMP)
	$(BIN)/python -m bot run $(ARGS)

# The web agenda's browser tests use Debian's chromium, the attestation's test reads its PDF with
# poppler's pdftotext: installed here when missing (as root).
test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium could not be installed: the browser tests will be skipped"
	@command -v pdftotext >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; } \
		|| echo "poppler-utils could not be installed: the attestation's text check will be skipped"
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
