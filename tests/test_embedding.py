"""The embedding model: offline resolution, normalized vectors, questions not stuck behind a build, and
the ONNX backends: close to torch, cached, recorded in the manifest, falling back to torch."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, SAMPLE

from newsqa import NewsQA, Settings
from newsqa.chunking import split_sentences
from newsqa.cli import main as cli
from newsqa.embedding import Embedder, _Turn, load_embedder, resolve_model
from newsqa.onnx_backend import cached_graph


def test_short_name_resolves_to_the_bundled_copy() -> None:
    path = resolve_model("all-MiniLM-L6-v2")
    assert path != "all-MiniLM-L6-v2" and path.endswith("model")
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == path
    assert resolve_model("/some/other/model") == "/some/other/model"


@pytest.mark.parametrize("backend", ["torch", "onnx", "onnx-int8"])
def test_vectors_are_normalized_and_in_input_order(backend: str) -> None:
    embedder = load_embedder("all-MiniLM-L6-v2", backend=backend)
    assert embedder.backend == backend
    texts = ["A short one.", "A much longer sentence about the harbour reopening after the storm. " * 5, "Third."]
    together = embedder.encode(texts)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    assert together.shape == (3, embedder.dimension) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    if backend == "onnx-int8":  # activations are quantized per batch (one scale per tensor), so a text's
        # batch-mates nudge its vector: "Third." next to a long sentence measured 0.976 (the others 0.99+)
        assert np.min(np.sum(together * alone, axis=1)) > 0.96
    else:
        assert np.allclose(together, alone, atol=1e-4)


def real_sentences() -> list[str]:
    """Sentences of the sample article and the test news, short and long, as questions and chunks come."""
    text = SAMPLE.read_text(encoding="utf-8")
    sentences = [text[s.start:s.end] for s in split_sentences(text)]
    records = [json.loads(line) for line in (DATA / "news" / "world.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    return sentences + [r["text"] for r in records if r.get("text")] + [
        "Why did the US sanction Turkey?", "S-400", "What did Stoltenberg say?", " ".join(sentences)]


def test_onnx_vectors_are_close_to_torch_vectors() -> None:
    texts = real_sentences()
    torch_ = load_embedder("all-MiniLM-L6-v2", backend="torch").encode(texts)
    fp32 = load_embedder("all-MiniLM-L6-v2", backend="onnx").encode(texts)
    int8 = load_embedder("all-MiniLM-L6-v2", backend="onnx-int8").encode(texts)
    assert np.min(np.sum(torch_ * fp32, axis=1)) > 0.9999  # the same graph: float rounding only
    cos = np.sum(torch_ * int8, axis=1)
    # Measured on these 21 texts: mean 0.993, min 0.985; on the demo chunks see
    # bench/results/fidelity-onnx-int8.md.
    assert cos.mean() > 0.985 and cos.min() > 0.97, (cos.mean(), cos.min())
    # What retrieval needs: each text's nearest neighbour among the others is the same one.
    for vectors in (fp32, int8):
        assert np.mean(np.argsort(-(vectors @ vectors.T), axis=1)[:, 1] == np.argsort(-(torch_ @ torch_.T), axis=1)[:, 1]) > 0.9


def test_the_exported_graph_is_cached_and_made_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSQA_CACHE", str(tmp_path))
    st = load_embedder("all-MiniLM-L6-v2", backend="torch")._model
    names = ["input_ids", "attention_mask", "token_type_ids"]
    path = cached_graph(st[0].auto_model, st.tokenizer, names, "onnx-int8")
    assert path.parent == tmp_path / "onnx" and path.name.endswith("-onnx-int8.onnx")
    made = path.stat().st_mtime_ns
    assert cached_graph(st[0].auto_model, st.tokenizer, names, "onnx-int8") == path
    assert path.stat().st_mtime_ns == made
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".export-")] == []  # no temporary left


def manifest_backend(index: Path) -> str:
    return json.loads((index / "manifest.json").read_text(encoding="utf-8"))["settings"]["embedding"]["backend"]


@pytest.mark.parametrize("backend", ["onnx-int8", "torch"])
def test_the_manifest_records_the_backend_and_questions_use_it(tmp_path: Path, backend: str) -> None:
    index = tmp_path / "index"
    assert cli(["build", str(SAMPLE), "--index", str(index), "--backend", backend, "--quiet"]) == 0
    assert manifest_backend(index) == backend
    qa = NewsQA.open(index)  # asked for the default, gets the index's own
    assert qa.settings.embedding.backend == backend and qa.embedder.backend == backend
    assert qa.info()["backend"] == backend
    assert qa.search("Why did the US sanction Turkey?", k=1)
    other = "torch" if backend != "torch" else "onnx-int8"
    NewsQA.build([DATA / "news"], index, settings=Settings().with_backend(other))  # an index keeps its backend
    assert manifest_backend(index) == backend


def test_an_index_from_before_backends_is_read_as_torch(tmp_path: Path) -> None:
    index = tmp_path / "index"
    NewsQA.build([SAMPLE], index, settings=Settings().with_backend("torch"))
    path = index / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["settings"]["embedding"]["backend"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert NewsQA.open(index).settings.embedding.backend == "torch"


@pytest.fixture(scope="module")
def unexportable(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real sentence-transformers model the ONNX path does not handle: a Dense layer after pooling."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Dense

    base = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu")
    model = SentenceTransformer(modules=[base[0], base[1], Dense(384, 128)], device="cpu")
    path = tmp_path_factory.mktemp("models") / "minilm-dense"
    model.save(str(path))
    return str(path)


def test_a_model_that_cannot_be_exported_falls_back_to_torch(unexportable: str, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="using torch instead"):
        embedder = Embedder(unexportable, backend="onnx-int8")
    assert embedder.backend == "torch" and embedder.dimension == 128
    assert np.allclose(np.linalg.norm(embedder.encode(["The harbour reopened."]), axis=1), 1.0, atol=1e-5)
    index = tmp_path / "index"
    with pytest.warns(UserWarning, match="using torch instead"):
        qa = NewsQA.build([SAMPLE], index, settings=Settings().with_model(unexportable))
    assert manifest_backend(index) == "torch" and qa.settings.embedding.backend == "torch"
    assert NewsQA.open(index).search("Turkey sanctions", k=1)


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


def test_remembered_vectors_do_not_depend_on_what_was_asked_before() -> None:
    embedder = load_embedder("all-MiniLM-L6-v2", backend="onnx-int8")
    texts = ["The harbour reopened after the storm.", "Third.", "Talks on the ferry budget broke down on Friday."]
    embedder.encode_remembered(["A much longer sentence about the council and its budget. " * 4, texts[1]])
    later = embedder.encode_remembered(texts)  # "Third." was first met beside a long sentence
    alone = np.vstack([embedder.encode([t]) for t in texts])
    assert np.array_equal(later, alone)
    assert not np.allclose(embedder.encode(texts), alone, atol=1e-4)  # in one batch, int8 vectors move
