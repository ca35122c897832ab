# The interface for people and CI alike: `make demo`, `make test`, `make lint`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install up demo test lint format clean bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "RAW Systems needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV) || { $(PYTHON) -m pip install --quiet --user virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

install: $(STAMP)

QUICKSTART := $(BIN)/raw --project-dir examples/quickstart

# The main job: the hiring example system on embedded defaults (README: "The hiring system").
# PORT is the coordinator's (make up PORT=8123; 0 picks a free one): the other commands
# find it in examples/hiring/.raw/up/, so the README's tour works on any port.
PORT ?= 8000

up: $(STAMP)
	cd examples/hiring && $(abspath $(BIN))/raw up --port $(PORT)

demo: $(STAMP)
	@echo "== A workflow that runs for real: flags come from its Params =="
	$(QUICKSTART) run text-stats --text "RAW workflows are pure functions. They take inputs, process data and return outputs. They are stateless and reusable." --top 3
	@echo
	@echo "== An LLM workflow on its recorded responses (--dry: mocks/, no network) =="
	$(QUICKSTART) run summarize-text --dry
	@echo
	@echo "== Both checked for real, then listed with their last runs =="
	$(QUICKSTART) validate
	$(QUICKSTART) list
	@echo
	@echo "Next: $(QUICKSTART) show summarize-text    (or: . .venv/bin/activate; raw --help)"

# Chromium (browser tests) and PostgreSQL with TLS (database TLS tests): installed when missing under CI=true,
# else a note (the tests skip); silent when present. loadgroup keeps each xdist_group
# (the browser tests share one `raw up`) on one worker.
test: $(STAMP)
	@./.ci/ensure-system-packages
	$(BIN)/python -m pytest -n auto --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples/hiring
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	cd examples/hiring && $(abspath $(BIN))/mypy --strict --ignore-missing-imports hiring

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks examples
	$(BIN)/ruff format src tests benchmarks examples/hiring

# The quick version of every benchmark (a few minutes on 2 cores) and one table of ours
# against the baselines and issue 20's targets (benchmarks/summary.py). PYTHONPATH: this
# checkout's code, whatever the venv's editable install points at.
bench: $(STAMP)
	cd benchmarks && PYTHONPATH=$(abspath src) $(abspath $(BIN))/python summary.py --save $(abspath .bench-last.json)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
