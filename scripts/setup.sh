#!/usr/bin/env bash
# Create (or reuse) .venv and install newsqa into it. Usage: scripts/setup.sh [EXTRA]
# torch==2.13.0 (CPU) goes in first: left to the resolver, pip would pull the multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
pip install --quiet torch==2.13.0
pip install --quiet -e ".${1:+[$1]}"
python -c "import newsqa, torch; print(f'newsqa {newsqa.__version__} ready in .venv (torch {torch.__version__})')"
