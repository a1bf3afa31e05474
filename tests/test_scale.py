"""Past `IndexSettings.approximate_above` vectors the index becomes IVF,SQ8: recorded in the
manifest, searched with the recorded nprobe, and still supports adds, removals and filters."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from newsqa import Article, NewsQA, Settings
from newsqa.config import IndexSettings
from newsqa.retrieve import Filters
from newsqa.store import NPROBE, Reader, Writer, all_vectors, approximate_index, ivf_lists, search_parameters
from newsqa.types import Chunk, Span

from conftest import ROOT

ARTICLES = Path(__file__).resolve().parent / "data" / "store" / "articles"
THRESHOLD = 50


def manifest(index: Path) -> dict:
    return json.loads((index / "manifest.json").read_text(encoding="utf-8"))


def planning_articles(folder: Path, files: int) -> None:
    """Undated local-news articles of several chunks each, to pass the threshold."""
    rng = random.Random(3)
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        body = [f"Residents of street {rng.randint(1, 99)} met on day {f * 100 + p} about {rng.randint(10, 900)} "
                f"new homes on the old {rng.choice(['gasworks', 'dairy', 'rail yard', 'quarry'])} site; they worried "
                f"about traffic, school places and {rng.randint(2, 40)} trees. Report {f * 100 + p} goes to the "
                f"committee in {rng.choice(['May', 'June', 'July'])}." for p in range(12)]
        (folder / f"planning-{f:02d}.txt").write_text(f"Planning row, part {f}\n\n" + "\n\n".join(body) + "\n",
                                                      encoding="utf-8")


def exact_top(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [int(i) for i in ids[np.argsort(-(vectors @ query))[:k]]]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = Path(shutil.copytree(ARTICLES, tmp_path / "articles"))
    planning_articles(folder / "planning", 20)
    return folder


def test_small_index_switches_to_ivf_and_keeps_working(corpus: Path, tmp_path: Path, embedder) -> None:
    settings = replace(Settings(), index=IndexSettings(vectors="float16", approximate_above=THRESHOLD))
    qa = NewsQA.build([corpus / "planning"], tmp_path / "index", settings=settings)
    m = manifest(qa.index_dir)
    n = m["faiss"]["vectors"]
    assert n > THRESHOLD
    assert m["faiss"]["type"] == f"IVF{ivf_lists(n)},SQfp16" and m["faiss"]["nprobe"] == NPROBE
    assert m["settings"]["index"]["approximate_above"] == THRESHOLD
    index = qa.reader.vectors
    assert isinstance(faiss.downcast_index(index), faiss.IndexIVFScalarQuantizer)

    # incremental add after the switch: same type, new ids searchable and reconstructable
    qa.add([corpus])
    qa = NewsQA.open(qa.index_dir)
    m = manifest(qa.index_dir)
    assert m["faiss"]["type"].startswith("IVF") and m["faiss"]["vectors"] == qa.info()["chunks"]
    vectors, ids = all_vectors(qa.reader.vectors)
    with qa.reader.db as db:
        assert set(ids.tolist()) == {r[0] for r in db.execute("SELECT id FROM chunks")}
    chunk = qa.reader.db.execute("SELECT id, text FROM chunk_texts WHERE article_id = 'wire-chips'").fetchone()
    # The stored vector survives the conversion (fp16 codes lose ~1e-4); encoding the chunk again alone
    # differs a little more, as onnx-int8 scales activations per batch (tests/test_embedding.py)
    assert float(qa.reader.vectors.reconstruct(chunk[0]) @ qa.embedder.encode([chunk[1]])[0]) > 0.97

    # search finds what exact search over the same vectors finds
    query = embedder.encode(["Veltron semiconductor packaging plant"])[0]
    hits = qa.search("Veltron semiconductor packaging plant", k=3)
    assert hits[0].article_id == "wire-chips"
    dense = [cid for cid, _ in qa.reader.vector_search(query, 10, Filters())]
    assert len(set(dense) & set(exact_top(vectors, ids, query, 10))) >= 9

    # a date filter keeps only dated articles in range, and still fills the list
    hits = qa.search("flood barrier and rail strike", k=5, filters={"date_from": "2024-03-01", "date_to": "2024-03-31"})
    assert hits and all("2024-03-01" <= h.published <= "2024-03-31" for h in hits)
    march = Filters("2024-03-01", "2024-03-31")
    allowed = qa.reader.chunk_ids_where(march)
    dense = [cid for cid, _ in qa.reader.vector_search(query, 5, march)]
    keep = np.isin(ids, allowed)
    assert dense == exact_top(vectors[keep], ids[keep], query, min(5, int(keep.sum())))

    # removal after the switch; removing most vectors turns the index flat again
    assert qa.remove(["wire-chips"]) == 1
    qa = NewsQA.open(qa.index_dir)
    assert chunk[0] not in set(all_vectors(qa.reader.vectors)[1].tolist())
    assert manifest(qa.index_dir)["faiss"]["type"].startswith("IVF")
    planning = [a.id for a in qa.reader.articles() if a.title.startswith("Planning row")]
    qa.remove(planning)
    m = manifest(qa.index_dir)
    assert m["faiss"]["vectors"] < THRESHOLD // 2 and m["faiss"]["type"] == "IDMap2,SQfp16" and "nprobe" not in m["faiss"]
    assert NewsQA.open(qa.index_dir).search("flood barrier", k=2)


def test_ivf_recall_on_real_vectors() -> None:
    """IVF over the demo corpus's 18k real chunk vectors, probing NPROBE of its lists: recall@10
    against exact search, for held-out perturbed queries, with and without a filter."""
    reader = Reader(ROOT / "index")
    vectors, ids = all_vectors(reader.vectors)
    rng = np.random.default_rng(0)
    held_out = rng.choice(len(ids), 100, replace=False)
    queries = vectors[held_out] + rng.standard_normal((100, vectors.shape[1]), dtype=np.float32) * 0.04
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    keep = np.ones(len(ids), bool)
    keep[held_out] = False
    base, base_ids = vectors[keep], ids[keep]
    index = approximate_index(base, base_ids, vectors.shape[1], "Flat")
    assert faiss.extract_index_ivf(index).nlist > NPROBE  # probing a share of the lists, not all
    allowed = base_ids[base_ids % 5 == 0]
    for sel, subset in ((None, np.ones(len(base_ids), bool)), (allowed, np.isin(base_ids, allowed))):
        _, found = index.search(queries, 10, params=search_parameters(index, NPROBE, sel))
        truth = [exact_top(base[subset], base_ids[subset], q, 10) for q in queries]
        recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found.tolist(), truth)])
        assert recall >= 0.9, recall


def test_writer_rebuilds_an_outgrown_ivf_index(tmp_path: Path) -> None:
    """Real vectors written straight through the Writer (no embedding): flat, then IVF past the
    threshold, rebuilt with more lists once it has grown 4x past its lists, ids kept throughout."""
    vectors, _ = all_vectors(Reader(ROOT / "index").vectors)
    model = {"name": "all-MiniLM-L6-v2", "dimension": vectors.shape[1], "max_tokens": 256}
    settings = replace(Settings(), index=IndexSettings(approximate_above=1000))  # float32 while flat

    def write(first: int, count: int) -> dict:
        with Writer.begin(tmp_path, model, settings) as writer:
            for a in range(first, first + count, 10):
                text = "Some words. " * 10
                article = Article(text=text, id=f"a{a}", published=f"2020-01-{1 + a % 28:02d}")
                chunks = [Chunk(article.id, p, 12 * p, 12 * p + 11, text[12 * p:12 * p + 11], [Span(12 * p, 12 * p + 11)])
                          for p in range(10)]
                writer.insert(article, f"h{a}", f"d{a}", "", chunks, vectors[a:a + 10])
        return manifest(tmp_path)

    assert write(0, 500)["faiss"]["type"] == "IDMap2,Flat"
    m = write(500, 1000)
    assert m["faiss"]["type"] == f"IVF{ivf_lists(1500)},SQfp16" and ivf_lists(1500) == 23
    assert write(1500, 2500)["faiss"]["nlist"] == 23  # 4,000 vectors: not yet 4x the lists
    m = write(4000, 6000)
    assert m["faiss"]["type"] == "IVF128,SQfp16" and m["faiss"]["vectors"] == 10_000
    reader = Reader(tmp_path)
    stored, ids = all_vectors(reader.vectors)
    assert ids.tolist() == list(range(1, 10_001))  # chunk ids, unchanged by both conversions
    assert np.allclose(stored, vectors[:10_000], atol=1e-3)  # fp16 codes
