"""Wire copies: the same story carried by two outlets, cited once with "also reported by ...".

Agency copy (Reuters, AP, AFP) runs near word for word at several outlets. Citing each copy
would make one report look like several independent ones, so a cited sentence that another
retrieved article carries too is cited once, and the other outlets are listed beside it.
"""

from __future__ import annotations

from dataclasses import replace

from .lexical import words
from .storage import StoreReader
from .types import Answer, Citation

_SHINGLE = 3  # words per shingle: short enough to survive a changed word, long enough to be specific
# A sentence is a copy when this share of its 3-word shingles occurs in the other article. Measured over
# the demo corpus's same-day sentence pairs from two outlets sharing 3+ shingles (bench/copies.py, 11,028 pairs):
# 1,125 share 0.75 or more and read as one text with a word or a quote mark changed; at 0.5-0.7 (727) are
# the same quote punctuated differently ("It's gotten" / "It has gotten") and outlets' own rewordings
# ("Since Trump took office, Israel has confirmed ..." / "Since Trump's inauguration, Israel has
# announced ...", 0.6), which are not one text.
COPY_CONTAINMENT = 0.8


def mark_copies(answer: Answer, reader: StoreReader, fold: bool = True) -> Answer:
    """Citations that are copies of an earlier citation from another article are folded into it (with
    `fold`: the text is rebuilt from the citations; a generative answer's [n] markers must stay), and
    every kept citation lists the other retrieved articles that carry the same sentence."""
    others = {h.article_id: h for h in answer.passages}
    kept: list[Citation] = []
    for c in answer.citations:
        original = next((k for k in kept if fold and k.article_id != c.article_id
                         and is_copy(c.quote, shingles_of(k.quote))), None)
        if original is not None:
            _add(original, c.article_id, c.source, c.published, c.url)
            continue
        kept.append(c)
    cited = {c.article_id for c in kept}
    texts = {a: shingles_of(_text(reader, a)) for a in others if a not in cited}  # each article read once
    for c in kept:
        for article_id, shingles in texts.items():
            if is_copy(c.quote, shingles):
                hit = others[article_id]
                _add(c, article_id, hit.source, hit.published, hit.url)
    if len(kept) == len(answer.citations):
        return answer
    return replace(answer, citations=_renumber(kept))


def is_copy(sentence: str, shingles: set[tuple[str, ...]]) -> bool:
    """Whether a text whose 3-word shingles are `shingles` carries `sentence` near word for word
    (see COPY_CONTAINMENT). A whole article's shingles may be given: a sentence's own shingles
    almost never span the sentences around it."""
    own = shingles_of(sentence)
    return bool(own) and len(own & shingles) >= COPY_CONTAINMENT * len(own)


def shingles_of(text: str) -> set[tuple[str, ...]]:
    """The 3-word runs of a text, folded to lower case."""
    w = words(text)
    return {tuple(w[i:i + _SHINGLE]) for i in range(len(w) - _SHINGLE + 1)}


def _text(reader: StoreReader, article_id: str) -> str:
    article = reader.article(article_id)
    return article.text if article else ""


def _add(citation: Citation, article_id: str, source: str, published: str, url: str) -> None:
    if any(o["article_id"] == article_id for o in citation.also_reported_by):
        return
    citation.also_reported_by.append({"article_id": article_id, "source": source, "published": published,
                                      "url": url})
    citation.also_reported_by.sort(key=lambda o: o["published"])


def _renumber(citations: list[Citation]) -> list[Citation]:
    """One number per article, in order of first citation, after copies were folded away."""
    numbers: dict[str, int] = {}
    for c in citations:
        numbers.setdefault(c.article_id, len(numbers) + 1)
    return [replace(c, number=numbers[c.article_id]) for c in citations]
