# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
SHELL := /bin/bash
VENV := .venv/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_DISABLE_TELEMETRY := 1

.PHONY: demo test index bench

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

bench:
	$(VENV)/python bench/speed.py query --index index
	$(VENV)/python bench/answers.py --index index
