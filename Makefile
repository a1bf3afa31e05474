# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
# `make bench` and the long `make bench-build` / `make bench-scale` measure (README, Measuring).
SHELL := /bin/bash
VENV := .venv/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_DISABLE_TELEMETRY := 1

.PHONY: demo test index bench bench-build bench-scale

demo:
	scripts/setup.sh
	$(VENV)/python app.py

test:
	scripts/setup.sh test
	scripts/ensure-chromium.sh
	$(VENV)/python -m pytest

# Rebuild the committed demo index from scratch (about 15 minutes on 2 cores).
index:
	scripts/setup.sh
	rm -rf index.new && $(VENV)/newsqa demo --index index.new && rm -rf index && mv index.new index

# Over the committed demo index: search / ask latency; retrieval of newsqa, BM25, MiniLM + FAISS and txtai
# hybrid (the bench extra installs bm25s and txtai; the two embedding baselines take most of the time); answers.
bench:
	scripts/setup.sh bench
	$(VENV)/python bench/speed.py query --index index
	$(VENV)/python bench/speed.py app --index index
	$(VENV)/python bench/retrieval.py --index index
	$(VENV)/python bench/answers.py --index index

# Long: build throughput on the full demo corpus against bare SentenceTransformer.encode (about 20 minutes).
bench-build:
	$(VENV)/python bench/speed.py build

# Long: FAISS index types at 50k, 100k and 1M rows (about 15 minutes, several GB of memory).
bench-scale:
	$(VENV)/python bench/scale.py --index index --sizes 50000,100000,1000000
