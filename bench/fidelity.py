"""Fidelity of an embedding backend to the float32 torch model, on the chunks of a real index.

Run: .venv/bin/python bench/fidelity.py --index index [--backend onnx-int8] [--sample N]

Both backends embed the same chunk texts (the index's own, every one unless --sample). If the
index was built with torch, its stored vectors stand for torch's (float16 storage costs
< 1e-5 of cosine); otherwise torch embeds them here too. Reported: the cosine between the two
backends' vectors per chunk and per query, and dense-only retrieval of each backend against
its own chunk vectors: title and subtitle queries of bench/queries.json -> article, FAISS
flat inner product over chunks, deduplicated by article (the article must be in the index).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import faiss
import numpy as np
from common import write

from newsqa.embedding import Embedder
from newsqa.store import read_manifest

QUERIES = Path(__file__).resolve().parent / "queries.json"


def chunk_vectors(index: Path, ids: np.ndarray) -> np.ndarray:
    """The stored vectors of chunks `ids`, from the index's FAISS file."""
    stored = faiss.read_index(str(index / read_manifest(index)["files"]["vectors"]))
    return np.vstack([stored.reconstruct(int(i)) for i in ids]).astype(np.float32)


def recall(chunks: np.ndarray, owners: list[str], queries: np.ndarray, gold: list[str]) -> dict[str, float]:
    flat = faiss.IndexFlatIP(chunks.shape[1])
    flat.add(chunks)
    _, found = flat.search(queries, 100)
    ranks = []
    for row, want in zip(found, gold, strict=True):
        seen: list[str] = []
        for i in row:
            if i >= 0 and owners[i] not in seen:
                seen.append(owners[i])
        ranks.append(seen.index(want) + 1 if want in seen[:10] else None)
    n = len(gold)
    return {"r@1": sum(r == 1 for r in ranks) / n, "r@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "r@10": sum(r is not None for r in ranks) / n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--sample", type=int, default=0, help="embed this many random chunks (0: all)")
    args = parser.parse_args()
    index = Path(args.index)
    manifest = read_manifest(index)
    db = sqlite3.connect(f"file:{index / manifest['files']['database']}?mode=ro", uri=True)
    rows = list(db.execute("SELECT id, article_id, text FROM chunk_texts ORDER BY id"))
    if args.sample:
        keep = np.random.default_rng(0).choice(len(rows), min(args.sample, len(rows)), replace=False)
        rows = [rows[i] for i in sorted(keep)]
    ids = np.array([r[0] for r in rows])
    owners = [r[1] for r in rows]
    texts = [r[2] for r in rows]
    in_index = set(owners)
    queries = {kind: [(q, a) for q, a in pairs if a in in_index]
               for kind, pairs in json.loads(QUERIES.read_text(encoding="utf-8")).items()}

    model = manifest["settings"]["embedding"]["model"]
    built_with = manifest["settings"]["embedding"].get("backend", "torch")
    torch_embedder = Embedder(model, backend="torch")
    other = Embedder(model, backend=args.backend)
    if other.backend != args.backend:
        raise SystemExit(f"{args.backend} is not available for {model}")
    if built_with == "torch":
        torch_vectors, torch_note = chunk_vectors(index, ids), "the index's stored vectors"
    else:
        torch_vectors, torch_note = torch_embedder.encode(texts, progress=True), "embedded here"
    started = time.perf_counter()
    other_vectors = other.encode(texts, progress=True)
    seconds = time.perf_counter() - started

    cos = np.sum(torch_vectors * other_vectors, axis=1)
    head = (f"Index: {index} ({len(texts)} chunks{' sampled' if args.sample else ''}); torch vectors: {torch_note}; "
            f"{args.backend} embedded them in {seconds:.0f} s ({len(texts) / seconds:.1f} chunks/s)")
    lines = [head, "",
             "| cosine torch vs " + args.backend + " | n | mean | p1 | min |", "|---|---|---|---|---|",
             f"| chunks | {len(cos)} | {cos.mean():.4f} | {np.percentile(cos, 1):.4f} | {cos.min():.4f} |"]
    results = []
    for kind, pairs in queries.items():
        q_texts, gold = [q for q, _ in pairs], [a for _, a in pairs]
        qt, qo = torch_embedder.encode(q_texts), other.encode(q_texts)
        qcos = np.sum(qt * qo, axis=1)
        lines.append(f"| {kind} queries | {len(qcos)} | {qcos.mean():.4f} | {np.percentile(qcos, 1):.4f} | "
                     f"{qcos.min():.4f} |")
        for name, chunks_, qv in (("torch float32", torch_vectors, qt), (args.backend, other_vectors, qo)):
            results.append((name, f"{kind} ({len(gold)})", recall(chunks_, owners, qv, gold)))
    lines += ["", "Dense-only retrieval (query -> article, each backend against its own chunk vectors):", "",
              "| backend | queries | recall@1 | recall@5 | recall@10 |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {kind} | {r['r@1']:.3f} | {r['r@5']:.3f} | {r['r@10']:.3f} |" for name, kind, r in results]
    body = "\n".join(lines)
    print(body)
    print(f"\nwritten to {write(f'fidelity-{args.backend}', f'Embedding fidelity: {args.backend}', body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
