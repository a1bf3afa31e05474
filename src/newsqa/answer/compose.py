"""Turning chosen sentences into answer text with [n] markers, citations, and abstentions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..storage import StoreReader
from ..types import Article, Citation, Hit, Span

_CONTEXT_SENTENCES = 1  # sentences shown on each side of a quote


@dataclass
class Candidate:
    """A sentence of a retrieved passage, as scored by an answerer."""

    hit: Hit
    hit_rank: int
    position: int  # index of the sentence in its article
    span: Span
    text: str
    lexical: float = 0.0  # share of the question's (rarity-weighted) terms it holds
    meaning: float = 0.0  # cosine similarity to the question
    cheap: float = 0.0  # the cheap model's chance that it answers (words, ranks, answer type)
    score: float = 0.0  # the full model's chance that it answers (with meaning)
    vector: np.ndarray | None = None


def compose(chosen: list[Candidate], reader: StoreReader) -> tuple[str, list[Citation]]:
    """Answer text and citations. Sentences are grouped by article (best article first) and, within
    an article, run best first: the sentence most likely to hold the answer opens it, and a weaker
    one never comes before it for being earlier in the article. Each article gets one number. When
    more than one article speaks, each group opens with its outlet and date, so the reader sees who
    said what and when."""
    groups: dict[str, list[Candidate]] = {}
    for item in chosen:
        groups.setdefault(item.hit.article_id, []).append(item)
    citations: list[Citation] = []
    for number, (article_id, items) in enumerate(groups.items(), start=1):
        article = reader.article(article_id)
        assert article is not None
        spans = reader.sentences(article_id)
        citations += [cite(number, article, spans, item.span, item.score) for item in items]  # best first
    return text_of(citations), citations


def text_of(citations: list[Citation]) -> str:
    """The answer text of citations in their order: each quote with its [n]; when more than one
    article speaks, each article's first quote opens with its outlet and date."""
    attribute = len({c.article_id for c in citations}) > 1
    parts: list[str] = []
    opened: set[str] = set()
    for c in citations:
        sentence = c.quote
        if attribute and c.article_id not in opened:
            sentence = f"{reported(c.source, c.published)} {c.quote}"
        opened.add(c.article_id)
        parts.append(f"{sentence} [{c.number}]{also_reported(c)}")
    return " ".join(parts)


def also_reported(c: Citation) -> str:
    """" (also reported by rte.ie, dw.com)" for a sentence other outlets carried too (a wire copy), else ""."""
    others = list(dict.fromkeys(o["source"] or "another article" for o in c.also_reported_by))
    return f" (also reported by {', '.join(others)})" if others else ""


def cite(number: int, article: Article, spans: list[Span], quote: Span, score: float) -> Citation:
    """The citation of one article sentence: the exact quote, its offsets and the sentences around it.
    `spans` are all of the article's sentences (`StoreReader.sentences`)."""
    ctx_start, ctx_end = _context(spans, quote)
    return Citation(
        number=number, article_id=article.id, title=article.title, source=article.source,
        published=article.published, url=article.url, quote=article.text[quote.start:quote.end], start=quote.start,
        end=quote.end, context=article.text[ctx_start:ctx_end], context_start=ctx_start, score=round(score, 4))


def passage_sentences(reader: StoreReader, hits: list[Hit], min_words: int = 0,
                      whole_articles: int = 0) -> tuple[list[Candidate], dict[str, str]]:
    """Each sentence of the passages once, in passage order, and the texts of their articles.
    Sentences under `min_words` words (captions, bylines) are left out. For the first
    `whole_articles` articles, every sentence of the article is taken, not only the passage's."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    texts: dict[str, str] = {}
    whole = list(dict.fromkeys(h.article_id for h in hits))[:whole_articles]
    for rank, hit in enumerate(hits):
        if hit.article_id not in texts:
            article = reader.article(hit.article_id)
            texts[hit.article_id] = article.text if article else ""
        text = texts[hit.article_id]
        spans = (enumerate(reader.sentences(hit.article_id)) if hit.article_id in whole
                 else reader.sentences_in(hit.article_id, hit.start, hit.end))
        for position, span in spans:
            key = (hit.article_id, position)
            sentence = text[span.start:span.end]
            if key in seen or len(sentence.split()) < min_words:
                continue
            seen.add(key)
            out.append(Candidate(hit, rank, position, span, sentence))
    return out, texts


def abstention(hits: list[Hit], period: str = "") -> str:
    scope = f"The articles{' from ' + period if period else ''}"
    if not hits:
        return f"{scope} don't cover this: nothing in the index matches the question."
    closest = "; ".join(f"\"{h.title}\", {_outlet(h)}" for h in _distinct_articles(hits)[:3])
    return f"{scope} don't say. The closest articles I found: {closest}."


def human_date(iso: str) -> str:
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def _outlet(hit: Hit) -> str:
    when = human_date(hit.published) if hit.published else ""
    who = hit.source or "an article"
    return f"{who} ({when})" if when else who


def reported(source: str, published: str) -> str:
    """"tass.com reported on 15 March 2017:" — who said it and when, leaving the quote untouched."""
    when = f" on {human_date(published)}" if published else ""
    return f"{source} reported{when}:" if source else f"Reported{when}:" if when else "An article reports:"


def _context(spans: list[Span], quote: Span) -> tuple[int, int]:
    index = next((i for i, s in enumerate(spans) if s.start == quote.start), None)
    if index is None:
        return quote.start, quote.end
    first = spans[max(0, index - _CONTEXT_SENTENCES)]
    last = spans[min(len(spans) - 1, index + _CONTEXT_SENTENCES)]
    return first.start, last.end


def _distinct_articles(hits: list[Hit]) -> list[Hit]:
    seen: dict[str, Hit] = {}
    for h in hits:
        seen.setdefault(h.article_id, h)
    return list(seen.values())
