# Event Atlas — the two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STORE  ?= $(or $(EVENT_ATLAS_STORE),geodata/events.gpkg)
PORT   ?= 8501
# 127.0.0.1 by default: the dashboard has no login. See README "Serving to others".
ADDRESS ?= 127.0.0.1

.PHONY: setup run test example-data gazetteer bench clean

setup: $(VENV)/.installed
	# supercluster from the npm registry, checked against its pinned sha512 (once; offline after)
	$(PY) -m dashboard.assets --fetch

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Build the offline gazetteer index now (otherwise it is built on first use).
gazetteer: setup
	$(PY) -m pipelines gazetteer build

# Fill the embedded store with the example articles when it is empty,
# by running the real pipeline on them.
example-data: setup
	@if [ -s "$(STORE)" ]; then echo "store $(STORE) already has data"; \
	else $(PY) -m pipelines ingest geodata/examples --store "$(STORE)"; fi

run: example-data
	$(PY) -m dashboard.assets
	EVENT_ATLAS_STORE="$(STORE)" $(PY) -m streamlit run dashboard/app.py \
		--server.port $(PORT) --server.address $(ADDRESS)

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/bench_foundation.py
	$(PY) bench/bench_geoparser.py
	$(PY) bench/bench_reliability.py
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_store.py

clean:
	rm -rf $(VENV) .pytest_cache artifacts
