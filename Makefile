# The two commands a new user runs: `make demo` and `make test`; `make docs` builds the documentation.
# Both create .venv if it is missing and install what they need into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
OUT    ?= retouch-demo

.PHONY: demo test docs serve bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	@touch $(VENV)/.installed $@

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[docs]'
	@touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/retouch demo --out $(OUT)

# Browser tests drive Debian's Chromium; install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest

# The Sphinx site (docs/design.md, the API from the numpydoc docstrings, docs/models.md,
# CHANGELOG.md) into docs/_build/html; any warning fails the build.
docs: $(VENV)/.installed-docs
	rm -rf docs/_build docs/generated
	$(BIN)/python -m sphinx -b html -W --keep-going -q docs docs/_build/html
	@echo "docs built: docs/_build/html/index.html"

serve: $(VENV)/.installed-test
	$(BIN)/retouch serve

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache docs/_build docs/generated
