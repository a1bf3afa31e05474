"""Words and stemmed terms, shared by keyword search and sentence scoring.

Terms are split and stemmed the way SQLite FTS5's `porter unicode61` tokenizer
does it, so a term computed here is the term stored in the keyword index.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import snowballstemmer

_TOKEN = re.compile(r"[^\W_]+")  # runs of letters and digits, as FTS5 unicode61 splits them

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just let me more most my myself no nor not now of
off on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves s t d ll m re ve don didn doesn isn
wasn weren won wouldn shouldn couldn hasn haven hadn aren ain ma mr mrs ms said says say tell told know
""".split())

_stemmer = snowballstemmer.stemmer("porter")


def fold(text: str) -> str:
    """Lower case without diacritics, as FTS5's `remove_diacritics 2` sees text."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if decomposed.isascii():
        return decomposed
    # Only the few distinct characters are tested, not every character: a per-character generator
    # took 20 ms of a 165 ms answer (profiled over 40 dev-set questions).
    marks = {ord(c): None for c in set(decomposed) if unicodedata.combining(c)}
    return decomposed.translate(marks) if marks else decomposed


def words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def content_words(text: str) -> list[str]:
    """Words that carry meaning: stop words and single letters dropped, numbers kept."""
    return [w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def terms(text: str) -> list[str]:
    """Stemmed content words, equal to the terms FTS5 stores for the same text."""
    return [stem(w) for w in content_words(text)]


@functools.lru_cache(maxsize=16384)
def term_set(text: str) -> frozenset[str]:
    """`terms` as a set, remembered: the answerer asks for the same sentences' and articles' terms
    many times a question (profiled: 40% of its time before)."""
    return frozenset(terms(text))


def fts_query(query_words: list[str]) -> str:
    """An FTS5 MATCH expression that ORs unstemmed words (FTS5 stems them itself), each quoted
    so that no query syntax (NEAR, *, ", column filters) can leak in."""
    unique = dict.fromkeys(w for w in query_words if w)
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in unique)
