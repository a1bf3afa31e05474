"""Fidelity of an embedding backend to the float32 torch model, on the chunks of a real index.

Run: .venv/bin/python bench/fidelity.py --index INDEX [--reference index] [--sample N]
  INDEX      an index built with the backend to judge (its manifest names it), e.g. the one
             `bench/speed.py build --index DIR` leaves behind
  reference  an index of the same articles built with torch (default: the committed demo index)

Chunks are matched by article and character span, and each side's stored vectors are used
(float16 storage costs < 1e-5 of cosine), so nothing is re-embedded; without a usable
reference, torch embeds INDEX's chunks here. Reported: the cosine between the two backends'
vectors per chunk and per query, and dense-only retrieval of each backend against its own
chunk vectors: title and subtitle queries of bench/queries.json -> article, FAISS flat inner
product over chunks, deduplicated by article (queries whose article is not indexed are dropped).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import faiss
import numpy as np
from common import write

from newsqa.config import Settings
from newsqa.embedding import Embedder
from newsqa.evaluate_retrieval import load_queries, rank
from newsqa.store import read_manifest

QUERIES = Path(__file__).resolve().parent / "queries.json"


def chunks(index: Path) -> dict[tuple[str, int, int], tuple[int, str]]:
    """(article id, start, end) -> (chunk id, text) of every chunk in an index."""
    manifest = read_manifest(index)
    db = sqlite3.connect(f"file:{index / manifest['files']['database']}?mode=ro", uri=True)
    rows = db.execute("SELECT c.id, c.article_id, c.start, c.end, t.text FROM chunks c "
                      "JOIN chunk_texts t ON t.id = c.id")
    return {(a, s, e): (i, text) for i, a, s, e, text in rows}


def chunk_vectors(index: Path, ids: list[int]) -> np.ndarray:
    """The stored vectors of chunks `ids`, from the index's FAISS file."""
    stored = faiss.read_index(str(index / read_manifest(index)["files"]["vectors"]))
    return np.vstack([stored.reconstruct(int(i)) for i in ids]).astype(np.float32)


def recall(vectors: np.ndarray, owners: list[str], queries: np.ndarray, gold: list[str]) -> dict[str, float]:
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    _, found = flat.search(queries, 100)
    ranks = [rank((owners[i] for i in row if i >= 0), want) for row, want in zip(found, gold, strict=True)]
    n = max(len(gold), 1)
    return {"r@1": sum(r == 1 for r in ranks) / n, "r@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "r@10": sum(r is not None for r in ranks) / n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, help="an index built with the backend to judge")
    parser.add_argument("--reference", default="index", help="the same articles indexed with torch")
    parser.add_argument("--sample", type=int, default=0, help="only this many random chunks (0: all)")
    args = parser.parse_args()
    index, reference = Path(args.index), Path(args.reference)
    settings = Settings().built_with(read_manifest(index)["settings"]).embedding
    model, backend = settings.model, settings.backend
    mine = chunks(index)
    keys = sorted(mine)
    if args.sample:
        keys = [keys[i] for i in sorted(np.random.default_rng(0).choice(len(keys), min(args.sample, len(keys)),
                                                                         replace=False))]
    owners, texts = [k[0] for k in keys], [mine[k][1] for k in keys]
    other_vectors = chunk_vectors(index, [mine[k][0] for k in keys])
    torch_embedder, other = Embedder(model, backend="torch"), Embedder(model, backend=backend)
    ref = Settings().built_with(read_manifest(reference)["settings"]).embedding if reference.exists() else None
    theirs = chunks(reference) if ref and ref.backend == "torch" and ref.model == model else {}
    if all(k in theirs for k in keys):
        torch_vectors = chunk_vectors(reference, [theirs[k][0] for k in keys])
        torch_note = f"stored in {reference} (same chunks)"
    else:
        torch_vectors, torch_note = torch_embedder.encode(texts, progress=True), "embedded here"
    in_index = set(owners)
    queries = {kind: [(q, a) for q, a in pairs if a in in_index] for kind, pairs in load_queries(QUERIES).items()}

    cos = np.sum(torch_vectors * other_vectors, axis=1)
    head = (f"Index: {index}, built with {backend} ({len(texts)} chunks{' sampled' if args.sample else ''}); "
            f"torch float32 vectors: {torch_note}")
    lines = [head, "",
             "| cosine torch vs " + backend + " | n | mean | p1 | min |", "|---|---|---|---|---|",
             f"| chunks | {len(cos)} | {cos.mean():.4f} | {np.percentile(cos, 1):.4f} | {cos.min():.4f} |"]
    results = []
    for kind, pairs in queries.items():
        q_texts, gold = [q for q, _ in pairs], [a for _, a in pairs]
        # one at a time, as questions come (int8 activations are quantized per batch)
        qt = np.vstack([torch_embedder.encode([q]) for q in q_texts])
        qo = np.vstack([other.encode([q]) for q in q_texts])
        qcos = np.sum(qt * qo, axis=1)
        lines.append(f"| {kind} queries | {len(qcos)} | {qcos.mean():.4f} | {np.percentile(qcos, 1):.4f} | "
                     f"{qcos.min():.4f} |")
        for name, vectors, qv in (("torch float32", torch_vectors, qt), (backend, other_vectors, qo)):
            results.append((name, f"{kind} ({len(gold)})", recall(vectors, owners, qv, gold)))
    lines += ["", "Dense-only retrieval (query -> article, each backend against its own chunk vectors):", "",
              "| backend | queries | recall@1 | recall@5 | recall@10 |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {kind} | {r['r@1']:.3f} | {r['r@5']:.3f} | {r['r@10']:.3f} |" for name, kind, r in results]
    body = "\n".join(lines)
    print(body)
    print(f"\nwritten to {write(f'fidelity-{backend}', f'Embedding fidelity: {backend}', body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
