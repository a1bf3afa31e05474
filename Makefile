# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
SHELL := /bin/bash
VENV := .venv/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test setup

demo:
	scripts/setup.sh
	$(VENV)/newsqa build examples/articles --index index
	$(VENV)/newsqa info --index index

test:
	scripts/setup.sh test
	$(VENV)/python -m pytest
