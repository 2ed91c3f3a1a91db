# Developer commands. `make dev` once, then the rest.
PYTHON ?= .venv/bin/python
export TRACKER_TEST_DATABASE_URL ?=

.PHONY: dev test lint proto vendor screenshots bench bench-load demo

dev:  ## a virtual environment with everything for development
	python3 -m venv .venv
	$(PYTHON) -m pip install -U pip
	$(PYTHON) -m pip install -e '.[dev,bench]'

test:  ## the suite; set TRACKER_TEST_DATABASE_URL to include PostgreSQL
	$(PYTHON) -m pytest -q

lint:  ## ruff, and mypy on the public packages
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check tracker_client tracker_server || true
	$(PYTHON) -m mypy

proto:  ## regenerate the generated protobuf code (ours, and the vendored TensorBoard event protos)
	$(PYTHON) proto/generate.py
	$(PYTHON) proto/generate_tensorboard.py

screenshots:  ## refresh the README's screenshots from the browser tests (test-artifacts/screenshots)
	$(PYTHON) -m pytest -q tests/web/test_runs_scalars.py tests/web/test_hparams_views.py
	cp test-artifacts/screenshots/scalars.png test-artifacts/screenshots/hparams.png docs/img/

vendor:  ## re-vendor the web UI's charting library (Apache ECharts, pinned in tracker_server/web/vendor.py)
	$(PYTHON) tracker_server/web/vendor.py

bench:  ## ingest and query benchmarks against PostgreSQL (TRACKER_BENCH_DATABASE_URL, default: local postgres)
	$(PYTHON) benchmarks/ingest.py
	$(PYTHON) benchmarks/queries.py
	$(PYTHON) benchmarks/tensorboard_dropin.py

bench-load:  ## 16 client processes into one server on PostgreSQL for 3 minutes; exact final count
	$(PYTHON) benchmarks/load.py

demo:
	.venv/bin/tracker demo
