"""Bring an index up to date with a set of articles, embedding only what changed.

`plan` compares incoming articles with what the index holds (by id, content
hash and a duplicate key); `apply` chunks and embeds the new and changed
ones and writes them through a `StoreWriter` (storage.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from .chunking import Chunker
from .embedding import Embedder
from .normalize import dedupe_key, paragraph_blocks, text_hash
from .storage import ArticleRejected, StoreWriter
from .types import Article, Chunk, Problem, Span


@dataclass
class BuildReport:
    """What a build or add did; printed as the build summary."""

    files: int = 0
    urls: int = 0  # URLs given (feeds and pages)
    not_modified: int = 0  # pages and feeds their servers said are unchanged: neither downloaded nor embedded
    read: int = 0  # articles read from the input
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0  # articles gone from files that were read again, or removed by id
    duplicates: int = 0
    chunks: int = 0  # chunks embedded in this run
    seconds: float = 0.0
    embed_seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # articles kept with a change (a clipped title, no date)
    total_articles: int = 0
    total_chunks: int = 0

    @property
    def skipped(self) -> int:
        return len(self.problems)

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files, "urls": self.urls, "not_modified": self.not_modified, "read": self.read,
            "added": self.added, "updated": self.updated,
            "unchanged": self.unchanged, "removed": self.removed, "duplicates": self.duplicates,
            "skipped": self.skipped, "problems": [str(p) for p in self.problems],
            "notes": [str(n) for n in self.notes], "chunks": self.chunks,
            "seconds": round(self.seconds, 3), "chunks_per_second": round(self.chunks_per_second, 1),
            "total_articles": self.total_articles, "total_chunks": self.total_chunks,
        }

    def summary(self) -> str:
        urls = f" and {self.urls} URLs ({self.not_modified} pages or feeds not modified)" if self.urls else ""
        lines = [
            f"read {self.read} articles from {self.files} files{urls}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.duplicates} duplicates skipped, {self.removed} removed, "
            f"{self.skipped} skipped",
            f"embedded {self.chunks} chunks in {self.seconds:.1f} s ({self.chunks_per_second:.1f} chunks/s)",
            f"index now holds {self.total_articles} articles in {self.total_chunks} chunks",
        ]
        lines += [f"skipped {p}" for p in self.problems]
        lines += [f"note {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class Plan:
    write: list[tuple[Article, str, str]] = field(default_factory=list)  # (article, content hash, dedupe key)
    delete: list[str] = field(default_factory=list)  # ids to remove before writing (changed or stale)


def content_hash(article: Article) -> str:
    return text_hash(json.dumps([article.title, article.source, article.url, article.published, article.text]))


def origin_file(origin: str) -> str:
    """`/path/file.jsonl:12` -> `/path/file.jsonl`: the file an article was read from."""
    head, sep, tail = origin.rpartition(":")
    return head if sep and tail.isdigit() else origin


def plan(articles: Iterable[Article], writer: StoreWriter, read_paths: set[str], report: BuildReport) -> Plan:
    stored = writer.stored()
    incoming_ids = set()
    result = Plan()
    articles = list(articles)
    for article in articles:
        incoming_ids.add(article.id)
    # Articles that came from a file read again in full, but are no longer in it.
    stale = [a.id for a in stored.values() if a.origin_file in read_paths and a.id not in incoming_ids]
    result.delete += stale
    report.removed += len(stale)
    stale_set = set(stale)
    keys = {a.dedupe_key: a.id for a in stored.values() if a.id not in stale_set}
    seen: dict[str, tuple[str, str]] = {}  # id -> (dedupe key, origin) within this run
    for article in articles:
        report.read += 1
        digest, key = content_hash(article), dedupe_key(article.text)
        if article.id in seen:
            if seen[article.id][0] == key:  # the same text again (ids made from text collide this way)
                report.duplicates += 1
            else:
                report.problems.append(Problem(article.origin or article.id, (
                    f"id {article.id!r} was already used by {seen[article.id][1]} for a different article; "
                    f"kept the first (give each article its own id)")))
            continue
        seen[article.id] = (key, article.origin)
        old = stored.get(article.id)
        if old and old.content_hash == digest:
            report.unchanged += 1
            continue
        if keys.get(key, article.id) != article.id:
            report.duplicates += 1  # same text as another article, under another id
            continue
        keys[key] = article.id
        if old:
            result.delete.append(article.id)
            report.updated += 1
        else:
            report.added += 1
        result.write.append((article, digest, key))
    return result


# Articles are chunked, embedded and written this many characters of text at a time: all at once, the 50 MB
# file's 69,000 chunks with their texts and vectors held about 400 MB (bench/memory.py); a window of this size
# holds under 20 MB of them, and embeds as fast (the embedder batches within it).
WINDOW_CHARS = 2_000_000


def apply(plan_: Plan, writer: StoreWriter, chunker: Chunker, embedder: Embedder, report: BuildReport,
          progress: bool = False, on_progress: Callable[[int, int], None] | None = None) -> None:
    """Write the plan. Progress counts chunks; past the first window the total is an estimate (the chunks so far
    per character of text, times all the text), exact once the last window is chunked."""
    writer.delete(plan_.delete)
    total_chars = sum(len(article.text) for article, _, _ in plan_.write) or 1
    chars, embedded, rejected = 0, 0, 0
    with tqdm(total=0, desc="Embedding", unit="chunk", disable=not progress) as bar:
        for window in _windows(plan_.write):
            chunked = [(item, chunk_article(chunker, item[0])) for item in window]
            chars += sum(len(article.text) for article, _, _ in window)
            count = sum(len(chunks) for _, chunks in chunked)
            expected = round((embedded + count) * total_chars / chars)

            def step(done: int, _: int, before: int = embedded, expected: int = expected) -> None:
                bar.total, bar.n = expected, before + done
                bar.refresh()
                if on_progress:
                    on_progress(before + done, expected)

            rejected += _embed_and_write(chunked, plan_, writer, embedder, report, step)
            embedded += count
    report.chunks = embedded - rejected


def _windows(items: list[tuple[Article, str, str]]) -> Iterator[list[tuple[Article, str, str]]]:
    """Consecutive runs of `items` of about WINDOW_CHARS of text (a longer article alone)."""
    window: list[tuple[Article, str, str]] = []
    size = 0
    for item in items:
        if window and size + len(item[0].text) > WINDOW_CHARS:
            yield window
            window, size = [], 0
        window.append(item)
        size += len(item[0].text)
    if window:
        yield window


def _embed_and_write(chunked: list[tuple[tuple[Article, str, str], list[Chunk]]], plan_: Plan, writer: StoreWriter,
                     embedder: Embedder, report: BuildReport, on_progress: Callable[[int, int], None]) -> int:
    """Embed the chunks of some articles and write the articles; returns the chunks of articles the database
    refused (each a Problem in the report; the others are written)."""
    texts: Sequence[str] = [c.text for _, chunks in chunked for c in chunks]
    started = time.perf_counter()
    vectors = embedder.encode(texts, on_progress=on_progress)
    report.embed_seconds += time.perf_counter() - started
    del texts
    for _, chunks in chunked:
        for chunk in chunks:
            chunk.text = ""  # embedded, and never stored (a chunk is offsets into its article)
    row, rejected = 0, 0
    for (article, digest, key), chunks in chunked:
        try:
            writer.insert(article, digest, key, origin_file(article.origin), chunks, vectors[row:row + len(chunks)])
        except ArticleRejected as exc:  # one article the database refuses: the rest of the run is still written
            report.problems.append(Problem(article.origin or article.id, str(exc)))
            rejected += len(chunks)
            _uncount(article.id, plan_, report)
        row += len(chunks)
    return rejected


def chunk_article(chunker: Chunker, article: Article) -> list[Chunk]:
    """The article's chunks; a long article is chunked a paragraph-aligned block at a time, as the
    chunker tokenizes all of an article's sentences at once (a 5 MB article took 160 MB more, the 50 MB
    one of issue 13 gigabytes; bench/memory.py). No chunk spans two blocks, which costs one overlap a MB."""
    blocks = paragraph_blocks(article.text)
    if len(blocks) == 1:
        return chunker.chunk(article)
    chunks: list[Chunk] = []
    for start, end in blocks:
        for c in chunker.chunk(Article(text=article.text[start:end], id=article.id)):
            chunks.append(Chunk(article.id, len(chunks), start + c.start, start + c.end, c.text,
                                [Span(start + s.start, start + s.end) for s in c.sentences]))
    return chunks


def _uncount(article_id: str, plan_: Plan, report: BuildReport) -> None:
    """Take a rejected article out of the counts: not added, or (its old version already deleted) removed."""
    if article_id in plan_.delete:
        report.updated -= 1
        report.removed += 1
    else:
        report.added -= 1
