"""The embedding model: offline resolution, normalized vectors, and questions not stuck behind a build."""

from __future__ import annotations

import threading
import time

import numpy as np

from newsqa.embedding import _Turn, resolve_model


def test_short_name_resolves_to_the_bundled_copy() -> None:
    path = resolve_model("all-MiniLM-L6-v2")
    assert path != "all-MiniLM-L6-v2" and path.endswith("model")
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == path
    assert resolve_model("/some/other/model") == "/some/other/model"


def test_vectors_are_normalized_and_in_input_order(embedder) -> None:
    texts = ["A short one.", "A much longer sentence about the harbour reopening after the storm. " * 5, "Third."]
    together = embedder.encode(texts)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    assert together.shape == (3, embedder.dimension)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-4)


def test_a_waiting_question_goes_before_the_next_build_batch() -> None:
    turn = _Turn()
    order: list[str] = []
    first_batch_running, question_waiting = threading.Event(), threading.Event()

    def build() -> None:
        with turn(bulk=True):
            order.append("batch 1")
            first_batch_running.set()
            assert question_waiting.wait(5)
            time.sleep(0.1)  # the question is now blocked inside turn()
        with turn(bulk=True):  # a plain Lock would let the build take it straight back
            order.append("batch 2")

    def question() -> None:
        assert first_batch_running.wait(5)
        question_waiting.set()
        with turn(bulk=False):
            order.append("question")

    threads = [threading.Thread(target=build), threading.Thread(target=question)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == ["batch 1", "question", "batch 2"]
