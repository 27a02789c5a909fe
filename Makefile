VENV ?= .venv
PY := $(VENV)/bin/python
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=
export HF_HUB_OFFLINE := 1

.PHONY: setup test test-fast test-spark lint demo bench eval

setup:
	bash scripts/setup.sh

test:
	$(PY) -m pytest -q

test-fast:
	$(PY) -m pytest -q -m "not slow and not spark"

test-spark:
	$(PY) -m pytest -q -m spark

lint:
	$(VENV)/bin/ruff check deid tests bench
	$(VENV)/bin/ruff format --check deid tests bench

demo:
	rm -rf out/demo
	$(VENV)/bin/deid redact samples/notes.parquet out/demo --id-column id --config samples/demo.yaml
	$(PY) -c "import pandas as pd; print(pd.read_parquet('out/demo').head(5).to_string())"

bench:
	$(PY) bench/run_bench.py

# deid vs Presidio + spaCy on the held-out sets (eval/splits.yaml); EVAL_ARGS=--quick for a fifth of each set
eval:
	$(PY) eval/run_eval.py $(EVAL_ARGS)
