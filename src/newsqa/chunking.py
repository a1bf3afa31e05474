"""Sentence splitting and sentence-aligned chunks sized in the model's own tokens.

Sentences come from syntok, run line by line so that headlines and list items
without a full stop stay separate sentences. Chunks are packed from whole
sentences up to a token budget counted with the embedding model's tokenizer;
only a sentence that alone exceeds the model's limit is cut, at token boundaries.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from syntok import segmenter

from .config import ChunkSettings
from .types import Article, Chunk, Span


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of `text`, each trimmed of surrounding whitespace."""
    spans: list[Span] = []
    line_start = 0
    for line in text.split("\n"):
        if line.strip():
            spans.extend(_line_sentences(line, line_start))
        line_start += len(line) + 1
    return spans


def _line_sentences(line: str, offset: int) -> list[Span]:
    spans = []
    for paragraph in segmenter.analyze(line):
        for sentence in paragraph:
            tokens = [t for t in sentence if t.value]
            if tokens:
                spans.append(Span(offset + tokens[0].offset, offset + tokens[-1].offset + len(tokens[-1].value)))
    if not spans:  # nothing syntok calls a token (e.g. only symbols): keep the line whole
        stripped = line.strip()
        start = line.index(stripped)
        spans.append(Span(offset + start, offset + start + len(stripped)))
    return spans


class Chunker:
    """Packs an article's sentences into overlapping chunks within the model's token limit."""

    def __init__(self, tokenizer: Any, model_max_tokens: int, settings: ChunkSettings) -> None:
        self.tokenizer = tokenizer
        special = len(tokenizer("", add_special_tokens=True)["input_ids"])  # [CLS] [SEP] and the like
        limit = settings.max_tokens or model_max_tokens
        self.limit = max(8, min(limit, model_max_tokens) - special)
        self.target = max(1, min(settings.target_tokens, self.limit))
        self.overlap = max(0, min(settings.overlap_tokens, self.target // 2))

    def chunk(self, article: Article) -> list[Chunk]:
        units = self._units(article.text, split_sentences(article.text))
        chunks: list[Chunk] = []
        i = 0
        while i < len(units):
            j, used = i, 0
            while j < len(units) and (j == i or used + units[j][1] <= self.target):
                used += units[j][1]
                j += 1
            spans = [span for span, _ in units[i:j]]
            start, end = spans[0].start, spans[-1].end
            chunks.append(Chunk(article.id, len(chunks), start, end, article.text[start:end], spans))
            if j >= len(units):
                break
            back, carried = j, 0  # carry trailing sentences into the next chunk as overlap
            room = min(self.overlap, self.target - units[j][1])  # ... only if the next sentence fits beside them
            while back - 1 > i and carried + units[back - 1][1] <= room:
                back -= 1
                carried += units[back][1]
            i = back
        return chunks

    def _units(self, text: str, spans: Sequence[Span]) -> list[tuple[Span, int]]:
        """(span, token count) per sentence; a sentence over the limit becomes several pieces."""
        if not spans:
            return []
        counts = [len(ids) for ids in self.tokenizer(
            [text[s.start:s.end] for s in spans], add_special_tokens=False, verbose=False)["input_ids"]]
        units: list[tuple[Span, int]] = []
        for span, count in zip(spans, counts):
            if count <= self.limit:
                units.append((span, count))
            else:
                units.extend(self._cut(text, span))
        return units

    def _count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def _cut(self, text: str, span: Span) -> list[tuple[Span, int]]:
        """Cut an over-long sentence into pieces of at most `limit` tokens, between words where possible.

        Pieces follow on from each other, so a character that makes no token (a stripped accent) is not
        lost between them, and each is counted anew: the rest of a word cut in two can take more tokens.
        """
        encoded = self.tokenizer(text[span.start:span.end], add_special_tokens=False, return_offsets_mapping=True,
                                 verbose=False)  # counting, not feeding the model: no length warning
        offsets = [(span.start + a, span.start + b) for a, b in encoded["offset_mapping"]]
        starts = [a for a, _ in offsets]
        # A piece may end where a token starts after the previous one ended (one Hangul syllable makes
        # several tokens), best where a gap shows that a word starts.
        cuts = [(a, a > end) for (_, end), (a, _) in zip(offsets, offsets[1:]) if a >= end] + [(span.end, True)]
        tokens_before = [bisect.bisect_left(starts, at) for at, _ in cuts]
        pieces = []
        start, first = span.start, 0  # `first`: the first cut after `start`
        while first < len(cuts):
            budget = bisect.bisect_left(starts, start) + self.limit  # cuts with at most this many tokens before fit
            last = max(first, bisect.bisect_right(tokens_before, budget, first) - 1)
            k = next((k for k in range(last, first - 1, -1) if cuts[k][1]), last)
            count = self._count(text[start:cuts[k][0]])
            while count > self.limit and k > first:
                k -= 1
                count = self._count(text[start:cuts[k][0]])
            end = cuts[k][0]
            pieces.append((Span(start, start + len(text[start:end].rstrip())), count))
            start, first = end, k + 1
        return pieces
