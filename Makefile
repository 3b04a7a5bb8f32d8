# vendorbell — `make run` serves the app, `make test` runs every test.
# Both create .venv and install what they need first (nothing else to install by hand):
# `make run` only the service's own dependencies, `make test` adds the test tools (the
# `dev` extra), the benchmarks also their peers (the `bench` extra). Each set has its own
# stamp, so `make test` after `make run` adds the test tools to the same .venv.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV     := $(VENV)/.installed-dev
BENCH   := $(VENV)/.installed-bench
PIP     := $(BIN)/pip install --quiet --disable-pip-version-check

.PHONY: run demo-embed test lint format messages migrate worker bench bench-inbox bench-push bench-ws bench-orders bench-scale bench-faults bench-console clean fuzz

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "vendorbell needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)

# The service: what `run`, `migrate`, `worker` and `messages` (pybabel comes with Babel) need.
$(RUNTIME): pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $(RUNTIME)

# The tests, lint and fuzzing: the service plus the `dev` extra.
$(DEV): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev]'
	@touch $(RUNTIME) $(DEV)

# The benchmarks: they use the tests' helpers (tests.cluster, httpx, websockets, aiosmtpd)
# and measure against the `bench` extra's peers (pywebpush).
$(BENCH): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev,bench]'
	@touch $(RUNTIME) $(DEV) $(BENCH)

## Serve the API (docs at /docs) and the PWA on http://127.0.0.1:8000 (SQLite under data/).
run: $(RUNTIME)
	$(BIN)/python -m server run

## The example marketplace on http://localhost:9000 embedding the bell of vendorbell on
## http://127.0.0.1:8000 (docs/embedding-element.md); registers its integration on the first run.
demo-embed: $(RUNTIME)
	$(BIN)/python -m examples.marketplace

## The whole test suite (PostgreSQL/Redis/browser tests skip unless their servers are there).
test: $(DEV)
	$(BIN)/pytest

## Schema fuzzing: schemathesis against /openapi.json as nobody, customer, vendor, admin
## (~2 min; `make test` runs it too, as tests/fuzz/test_fuzz.py).
fuzz: $(DEV)
	$(BIN)/python -m tests.fuzz.run

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Collect the server's texts into server/locale/messages.pot and merge them into every
## language's messages.po (translators then fill in the new msgstr lines).
messages: $(RUNTIME)
	$(BIN)/pybabel extract --no-wrap --sort-by-file --project vendorbell \
		--copyright-holder "vendorbell contributors" -o server/locale/messages.pot server
	$(BIN)/pybabel update --no-wrap --ignore-obsolete -i server/locale/messages.pot -d server/locale

migrate: $(RUNTIME)
	$(BIN)/python -m server migrate

worker: $(RUNTIME)
	$(BIN)/python -m server worker

bench: bench-inbox bench-push bench-ws

bench-inbox: $(BENCH)
	@command -v wrk >/dev/null || apt-get install -y -q wrk || \
		(echo "bench-inbox needs wrk: apt-get install wrk" && false)
	$(BIN)/python -m bench.bench_inbox

## Plain HTTP and TLS; Node's web-push is a peer where node and npm are found (else skipped).
bench-push: $(BENCH)
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
		npm ci --prefix bench/node --no-audit --no-fund || \
			echo "bench-push: npm ci failed: the Node web-push peer will be skipped"; \
	else echo "bench-push: node or npm not found: the Node web-push peer will be skipped"; fi
	$(BIN)/python -m bench.bench_push

bench-ws: $(BENCH)
	$(BIN)/python -m bench.bench_ws

## The highest order rate one `server run` keeps up with (push at the push service within
## 100 ms at p99); `ARGS="--baseline <git revision>"` measures that revision too, same run.
bench-orders: $(BENCH)
	$(BIN)/python -m bench.bench_orders $(ARGS)

## Several API and worker processes on PostgreSQL + Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL;
## defaults: the local servers). ~15 min; `--only drain,tabs` etc. for one part.
bench-scale: $(BENCH)
	@command -v wrk >/dev/null || apt-get install -y -q wrk || \
		(echo "bench-scale needs wrk: apt-get install wrk" && false)
	$(BIN)/python -m bench.bench_scale $(ARGS)

## Faults a deployment meets: a blackholed push service, Retry-After pauses, a hanging SMTP
## server with two workers, a database outage under load (~3 min; `ARGS=--only push`).
# The operator's console reading a database of 1M push deliveries (PostgreSQL).
bench-console: $(BENCH)
	$(BIN)/python -m bench.bench_console $(ARGS)

bench-faults: $(BENCH)
	$(BIN)/python -m bench.faults $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-output
