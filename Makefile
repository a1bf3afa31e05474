# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
SHELL := /bin/bash
VENV := .venv/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
QUESTION ?= Why did the US sanction Turkey?

.PHONY: demo test

demo:
	scripts/setup.sh
	$(VENV)/newsqa demo --index index
	$(VENV)/newsqa ask "$(QUESTION)" --index index

test:
	scripts/setup.sh test
	$(VENV)/python -m pytest
