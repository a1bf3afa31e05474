"""The default answerer: choose the retrieved sentences that answer the question.

No generator is involved, so every answer sentence is an article sentence and
its citation is that sentence itself. Sentences are scored in two passes:
cheaply by the question's words they contain (weighted by rarity) and the rank
of their passage, then the best few by meaning with the embedding model. A cue
for the kind of answer asked for (a reason for "why", a date for "when", a
number for "how many", a named place for "where") adds a little. A "how many" answer must hold a quantity
and a "when" answer a date or time (`has_answer_form`). When no sentence with
that form scores over the calibrated `min_support`, the answerer abstains.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np

from ..config import AnswerSettings
from ..embedding import Embedder
from ..lexical import terms, words
from ..question import named_terms, question_parts
from ..store import Reader
from ..types import Hit
from .compose import Candidate, passage_sentences

_MIN_WORDS = 4  # shorter "sentences" are captions, bylines and fragments
_WHOLE_ARTICLES = 2  # the best articles, whose every sentence is a candidate
_CUE_SHORTLIST = 4  # shortlist places kept for sentences that carry the cue of the question's kind

# What an answer of each kind tends to contain: (strong, weak) cues. Generic English, not tuned to a corpus.
_CUES = {
    "why": (re.compile(r"\b(because|due to|owing to|as a result|result of|in response|in retaliation|reasons?|"
                       r"caused?|causing|led to|leading to|prompted|triggered|so that|in order to|aim(ed|s)? (at|to)|"
                       r"blam(e|ed|es|ing)|accus(e|ed|es|ing)|punish\w*|protest\w*|in protest|sparked|motivated|"
                       r"thanks to|given that|(in an|an|latest|part of an?) efforts? to|in a bid to|intended to|designed to|meant to|"
                       r"seeking to|so as to)\b", re.I),
            re.compile(r"\b(after|following|amid|over (its|the|their|his|her|a|an)|since)\b", re.I)),
    "when": (re.compile(r"\b(january|february|march|april|may|june|july|august|september|october|november|"
                        r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
                        r"tonight|(19|20)\d\d)\b", re.I),
             re.compile(r"\b(week|month|year|ago|earlier|later|since|until|morning|evening|night)\b", re.I)),
    "number": (re.compile(r"(?<![\w.,])(?!(19|20)\d\d\b)\d[\d,.]*(?!\w)|\b\d+(st|nd|rd|th)\b|\b(one|two|three|four|"
                          r"five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?|"
                          r"thousands?|millions?|billions?|dozens?|half|first|second|third|fourth|fifth|sixth|"
                          r"seventh|eighth|ninth|tenth|twice|thrice)\b", re.I),  # a quantity; a year alone is not one
               re.compile(r"\b(percent|several|few|many|number|times?)\b", re.I)),
    "who": (re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b"), re.compile(r"\b[A-Z][a-z]{2,}\b")),
    "where": (re.compile(r"\b(in|at|from|near|outside|into|to)\s+(the\s+)?[A-Z][a-z]+"),  # a named place
              re.compile(r"\b(city|town|village|country|region|province|capital|headquarters|based)\b", re.I)),
    "how": (re.compile(r"\b(by|using|through|via|with the help of|in order to|so that)\b", re.I),
            re.compile(r"\b(with|after|when|from)\b", re.I)),
}
_CUE_WEIGHT = (0.12, 0.05)

# "How much did it cost / was the fee / did they pay": the answer is an amount of money.
_MONEY_QUESTION = re.compile(r"\b(money|costs?|price[sd]?|fees?|pa(y|id|ys)|spen[dt]|invest(ed|ment)?|prize|salary|"
                             r"fined?|budget|worth)\b", re.I)
# "How many years / days ...": a duration is answered with its unit.
_TIME_UNIT = r"(years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|century)"
_DURATION_QUESTION = re.compile(rf"\bhow many {_TIME_UNIT}\b", re.I)
_DURATION = re.compile(rf"\b{_TIME_UNIT}\b(?!-old)", re.I)  # "a 48-year-old" is an age, not a duration
# Words that end the phrase naming what "how many" counts: a verb, a preposition, a determiner.
_COUNTED_ENDS = frozenset("""did do does were was are is has have had will would can could should may might
in on at from for of to with by the a an this that these those its their""".split())
# Counts of people are told in many words ("11 activists", "killing 71"), and of times as "twice":
# no counted word is required for these.
_ANY_WORDING = frozenset(terms("people persons individuals times"))
_MONEY = re.compile(r"[$€£¥₹₽]|\b(dollars?|euros?|pounds?|yuan|yen|rupees?|francs?|roubles?|rubles?|pesos?|"
                    r"USD|EUR|GBP)\b", re.I)


_LEADING_PREPOSITIONS = frozenset("by in on at to from for under of with".split())
_PLACES = frozenset("town city country village state province region place capital port county district island".split())


def question_kind(question: str) -> str:
    w = words(question)
    if w[:1] and w[0] in _LEADING_PREPOSITIONS:  # "By how much ...", "In which town ..."
        w = w[1:]
    head = " ".join(w[:3])
    if ("why" in w[:3] or "reason" in w or "reasons" in w or "behind" in w
            or head.startswith(("what caused", "what led", "what prompted", "what made", "how come"))):
        return "why"
    if "when" in w[:2] or head.startswith(("what date", "what time", "what year", "what day")):
        return "when"
    if head.startswith(("how many", "how much", "how long", "how old", "how far")):
        return "number"
    if "who" in w[:2]:
        return "who"
    if "where" in w[:2] or (w[:1] in (["which"], ["what"]) and w[1:2] and w[1] in _PLACES):
        return "where"
    if w[:1] == ["how"]:
        return "how"
    return ""




def has_answer_form(kind: str, question: str, sentence: str) -> bool:
    """Whether a sentence holds what the question's kind needs at all: a quantity (an amount of
    money or a duration, when the question asks for one; naming what is counted, for "how many
    <things>") for "how many/much", a date or time for "when". Without it a sentence on the right
    subject does not answer, however close its meaning."""
    if kind == "number":
        strong = _CUES["number"][0]
        if _MONEY_QUESTION.search(question) and "how much" in question.lower():
            return bool(_MONEY.search(sentence) and strong.search(sentence))
        if _DURATION_QUESTION.search(question):
            return bool(_DURATION.search(sentence) and strong.search(sentence))
        return bool(strong.search(sentence)) and _names_counted(question, sentence)
    if kind == "when":
        strong, weak = _CUES["when"]
        return bool(strong.search(sentence) or weak.search(sentence))
    return True


def _names_counted(question: str, sentence: str) -> bool:
    """A count answers "how many passengers" only if it says passengers: "1,000 feet" or "four
    points" in a sentence on the right subject counts something else."""
    counted = set(terms(" ".join(_counted_words(question))))
    return not counted or bool(counted & _ANY_WORDING) or bool(counted & set(terms(sentence)))


def _counted_words(question: str) -> list[str]:
    """The words after "how many [of the]" up to a verb, preposition or determiner: "how many
    captured rebels did ..." -> captured, rebels (a participle after the first word is the verb)."""
    w = words(question)
    at = next((i + 2 for i in range(len(w) - 1) if w[i:i + 2] == ["how", "many"]), len(w))
    if w[at:at + 1] == ["of"]:
        at += 2
    counted: list[str] = []
    for word in w[at:at + 4]:
        if word in _COUNTED_ENDS or (counted and word.endswith("ed")):
            break
        counted.append(word)
    return counted


def cue_strength(kind: str, sentence: str) -> float:
    """Bonus for a sentence that carries what an answer of this kind needs (0 for plain questions)."""
    if kind not in _CUES:
        return 0.0
    strong, weak = _CUES[kind]
    if strong.search(sentence):
        return _CUE_WEIGHT[0]
    return _CUE_WEIGHT[1] if weak.search(sentence) else 0.0


class ExtractiveAnswerer:
    """Scores the sentences of retrieved passages and chooses the ones that answer.

    A sentence's score mixes its own match to the question (meaning and words) with
    the best match in its article: news sentences lean on their neighbours, and the
    sentence that gives a reason ("The deal was reached because ...") rarely repeats
    the question's words. For a why/when/how-many/who question, sentences after the
    best one are kept only if they carry the cue of that kind.
    """

    def __init__(self, reader: Reader, embedder: Embedder, settings: AnswerSettings) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings
        self._texts: dict[str, str] = {}  # article texts of the current candidates

    def choose(self, question: str, query: str, query_vector: np.ndarray, hits: list[Hit]) -> list[Candidate]:
        """The sentences that answer, best first; empty when none answers well enough. Each part
        of a compound question is answered on its own, and the answer holds what was found."""
        # Every sentence of the best articles: the answer (a reason, a figure) is often told away
        # from the passage that matched the question's words.
        sentences, self._texts = passage_sentences(self.reader, hits[: self.settings.passages], _MIN_WORDS,
                                                   whole_articles=_WHOLE_ARTICLES)
        parts = question_parts(question)
        if len(parts) == 1:
            return self._choose(question, query, query_vector, sentences, self.settings.max_sentences)
        chosen: list[Candidate] = []
        share = max(1, self.settings.max_sentences // len(parts))
        for part, vector in zip(parts, self.embedder.encode(parts)):
            # each part scores its own copies of the sentences, read once
            for c in self._choose(part, query, vector, [replace(c) for c in sentences], share):
                if all((c.hit.article_id, c.position) != (o.hit.article_id, o.position) for o in chosen):
                    chosen.append(c)
        return chosen

    def _choose(self, question: str, query: str, query_vector: np.ndarray, candidates: list[Candidate],
                max_sentences: int) -> list[Candidate]:
        kind = question_kind(question)
        if not candidates:
            return []
        self._score_words(candidates, query, question)
        shortlist = self._shortlist(candidates, kind)
        settings = self.settings
        for c, v in zip(shortlist, self.embedder.encode([c.text for c in shortlist])):
            c.vector = v
            c.meaning = float(v @ query_vector)
            c.own = settings.meaning_weight * c.meaning + (1 - settings.meaning_weight) * c.lexical
        best_in_article: dict[str, float] = {}
        for c in shortlist:
            best_in_article[c.hit.article_id] = max(best_in_article.get(c.hit.article_id, 0.0), c.own)
        names = named_terms(question)
        coverage = {a: self._coverage(a, names) for a in best_in_article}
        for c in shortlist:
            c.cue = cue_strength(kind, c.text)
            c.score = ((1 - settings.article_weight) * c.own + settings.article_weight * best_in_article[c.hit.article_id]
                       + c.cue)
            # An article that never mentions a name the question asks about is not about it.
            c.score *= 1 - settings.name_weight * (1 - coverage[c.hit.article_id])
        shortlist.sort(key=lambda c: -c.score)
        best = next((c for c in shortlist if has_answer_form(kind, question, c.text)), None)
        if best is None or best.score < settings.min_support:
            return []
        chosen = [best]
        for c in shortlist:
            if c is best:
                continue
            if len(chosen) >= max_sentences:
                break
            same_article = c.hit.article_id == best.hit.article_id
            if c.score < max(settings.min_support, (settings.keep_within if same_article
                                                    else settings.keep_other_within) * best.score):
                continue  # another article must come close to the best to be cited beside it
            if kind and not c.cue:
                continue  # a typed question wants the reason / date / number, not more background
            if any(float(c.vector @ o.vector) > settings.duplicate_similarity for o in chosen):
                continue  # says again what a chosen sentence says (often another outlet's copy)
            chosen.append(c)
        return chosen

    def _shortlist(self, candidates: list[Candidate], kind: str) -> list[Candidate]:
        """The few sentences worth embedding: the best by words and passage rank, the sentences
        right after the best few of those (news often answers in the next sentence), and, for a
        typed question, sentences with its cue from the best passages (they seldom share the
        question's words)."""
        ranked = sorted(candidates, key=lambda c: -c.lexical - 0.3 / (1 + c.hit_rank))
        size = self.settings.rerank
        shortlist = ranked[: size // 2]
        by_place = {(c.hit.article_id, c.position): c for c in candidates}
        followers = [by_place.get((c.hit.article_id, c.position + 1)) for c in shortlist[:3]]
        cued = sorted((c for c in ranked if cue_strength(kind, c.text) > 0),
                      key=lambda c: (c.hit_rank, -cue_strength(kind, c.text), -c.lexical)) if kind else []
        for c in [*followers, *cued[:_CUE_SHORTLIST], *ranked]:
            if len(shortlist) >= size:
                break
            if c is not None and all(c is not o for o in shortlist):
                shortlist.append(c)
        return shortlist

    def _coverage(self, article_id: str, names: set[str]) -> float:
        """Share of the question's names that the article mentions anywhere (1.0 without names)."""
        if not names:
            return 1.0
        present = set(terms(self._texts.get(article_id, "")))
        return len(names & present) / len(names)

    def _score_words(self, candidates: list[Candidate], query: str, question: str) -> None:
        """Share of the query's (IDF-weighted) terms each sentence contains; the question's own
        terms count double, so a follow-up's earlier context does not outweigh it."""
        weights: dict[str, float] = {}
        df, n = self.reader.document_frequencies(terms(query))
        own = set(terms(question))
        for term, count in df.items():
            idf = math.log(1 + (n - count + 0.5) / (count + 0.5))
            weights[term] = idf * (2.0 if term in own else 1.0)
        total = sum(weights.values())
        if not total:
            return
        for c in candidates:
            present = set(terms(c.text))
            c.lexical = sum(w for t, w in weights.items() if t in present) / total
