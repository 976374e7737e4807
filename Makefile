# Two set-up commands: `make demo` and `make test`. Both create .venv/ and install the project.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test check format bench timescaledb browser clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# Builds TimescaleDB from Debian's source for the local cluster when we are root; exit 3
# means "cannot install here" and the TimescaleDB tests then skip (never with CI=true).
timescaledb:
	@bash scripts/install-timescaledb.sh || { rc=$$?; [ $$rc -eq 3 ] || exit $$rc; }

# Debian's chromium for the wall's browser tests (playwright drives it through
# executable_path and never downloads a browser). Installed when missing and we are root;
# otherwise the browser tests skip with the reason (and fail with CI=true).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" -eq 0 ]; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
		else \
			echo "chromium missing and not root: the browser tests will skip"; \
		fi; \
	fi

demo: venv
	$(BIN)/monitor-center demo

check: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: venv timescaledb browser check
	$(BIN)/pytest

# Every benchmark and its reference, one table at the end (about 13 minutes);
# e.g. make bench BENCH_ARGS="--skip fanout --markdown /tmp/bench.md" (python -m bench --help).
BENCH_ARGS ?=
bench: venv timescaledb
	bash bench/install-references.sh
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
