"""Shared fixtures. Models load from the bundled offline copy; nothing reaches the network."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "articles" / "s400-turkey-2020-12-29.txt"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def sample_article() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def embedder():
    from newsqa.embedding import load_embedder

    return load_embedder("all-MiniLM-L6-v2")
