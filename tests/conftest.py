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
SAMPLE = ROOT / "src" / "newsqa" / "data" / "s400-turkey-2020-12-29.txt"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def hold_write():
    """`with hold_write(lambda: Writer.begin(...)):` keeps a write open in another thread for the block."""
    import threading
    from contextlib import contextmanager

    @contextmanager
    def hold(begin):  # noqa: ANN001, ANN202 - a callable making a writer's context manager
        holding, release = threading.Event(), threading.Event()

        def run() -> None:
            with begin():
                holding.set()
                release.wait(30)

        thread = threading.Thread(target=run)
        thread.start()
        try:
            assert holding.wait(30)
            yield
        finally:
            release.set()
            thread.join()

    return hold


@pytest.fixture(scope="session")
def sample_article() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def embedder():
    from newsqa.embedding import load_embedder

    return load_embedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample article and tests/data/news (5 articles), built once; tests that change it copy it."""
    from newsqa import NewsQA

    path = tmp_path_factory.mktemp("small") / "index"
    NewsQA.build([SAMPLE, DATA / "news"], path)
    return path


@pytest.fixture(scope="session")
def news100_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """News100's article bodies, the corpus whose titles and subtitles the retrieval evaluations query."""
    from newsqa import NewsQA
    from newsqa.corpora import news_records

    path = tmp_path_factory.mktemp("news100") / "index"
    NewsQA.build([r.article for r in news_records("News100")], path)
    return path
