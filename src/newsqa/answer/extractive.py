"""The default answerer: choose the retrieved sentences that answer the question.

No generator is involved, so every answer sentence is an article sentence and
its citation is that sentence itself. What the question asks for (`question_kind`:
a reason, a date, a number, a name, a place, a manner) and what each sentence
holds (the cues of that kind, things the question does not already name) become
features; small logistic models learned from the dev set's tune split
(`features.py`) shortlist and score the sentences and decide whether the
articles answer at all. A "how many" answer must hold a quantity and a "when"
answer a date or time (`has_answer_form`).
"""

from __future__ import annotations

import math
import re
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..clean import is_boilerplate
from ..config import AnswerSettings
from ..embedding import Embedder
from ..lexical import term_set, terms, words
from ..question import named_terms, question_parts
from ..storage import StoreReader
from ..types import Answer, Hit
from .compose import Candidate, abstention, compose, passage_sentences
from .contract import Choice, Event, Request
from .features import (DATE_WORDS, SENTENCE_CHEAP, AnswerModels, has_new_number, length_feature, new_names_feature,
                       new_proper_names, position_feature, restatement, typed_new)

_MIN_WORDS = 4  # shorter "sentences" are captions, bylines and fragments
_WHOLE_ARTICLES = 2  # the best articles, whose every sentence is a candidate

# What an answer of each kind tends to contain: (strong, weak) cues. Generic English, not tuned to a corpus.
_CUES = {
    "why": (re.compile(r"\b(because|due to|owing to|as a result|result of|in response|in retaliation|reasons?|"
                       r"caused?|causing|led to|leading to|prompted|triggered|so that|in order to|aim(ed|s)? (at|to)|"
                       r"blam(e|ed|es|ing)|accus(e|ed|es|ing)|punish\w*|protest\w*|in protest|sparked|motivated|"
                       r"thanks to|given that|(in an|an|latest|part of an?) efforts? to|in a bid to|intended to|designed to|meant to|"
                       r"seeking to|so as to)\b", re.I),
            re.compile(r"\b(after|following|amid|over (its|the|their|his|her|a|an)|since)\b", re.I)),
    "when": (re.compile(rf"\b({DATE_WORDS}|today|tonight)\b", re.I),
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


# "What is the name of ...", "What were the names of ...", "Under what name ...": the answer is a name.
_NAME_QUESTION = re.compile(r"\b(what|which)(\s+[\w'’-]+){0,3}\s+names?\b", re.I)

_LEADING_PREPOSITIONS = frozenset("by in on at to from for under of with".split())
_PLACES = frozenset("town city country village state province region place capital port county district island".split())
_TIMES = frozenset("year month day date time decade century week season".split())
# "What percentage / share ...", "How tall / far ...": a quantity is asked for, as with "how many".
_QUANTITIES = frozenset("percentage percent proportion share fraction amount number sum price age rate".split())
_MEASURES = frozenset("many much long old far tall high big large deep wide heavy fast".split())


def question_kind(question: str) -> str:
    """What a question asks for: a reason ("why"), a date ("when"), a quantity ("number"), a name
    ("who"), a place ("where"), a manner ("how"), or "" (anything)."""
    w = words(question)
    if w[:1] and w[0] in _LEADING_PREPOSITIONS:  # "By how much ...", "In which town ..."
        w = w[1:]
    head = " ".join(w[:3])
    second = w[1] if len(w) > 1 else ""
    which = w[:1] in (["which"], ["what"])
    if ("why" in w[:3] or "reason" in w or "reasons" in w or "behind" in w
            or head.startswith(("what caused", "what led", "what prompted", "what made", "how come"))):
        return "why"
    if "when" in w[:2] or (which and second in _TIMES):
        return "when"
    if (w[:1] == ["how"] and second in _MEASURES) or (which and second in _QUANTITIES):
        return "number"
    if "who" in w[:2]:
        return "who"
    if "where" in w[:2] or (which and second in _PLACES):
        return "where"
    if w[:1] == ["how"]:
        return "how"
    return ""


def has_answer_form(kind: str, question: str, sentence: str) -> bool:
    """Whether a sentence holds what the question's kind needs at all: a quantity (an amount of
    money or a duration, when the question asks for one; naming what is counted, for "how many
    <things>") for "how many/much", a date or time for "when", a name it does not already use for
    "what is the name of". Without it a sentence on the right
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
    if _NAME_QUESTION.search(question):  # "the alleged gunman, a 19-year-old" does not give his name
        return bool(new_proper_names(term_set(question), sentence))
    return True


def _names_counted(question: str, sentence: str) -> bool:
    """A count answers "how many passengers" only if it says passengers: "1,000 feet" or "four
    points" in a sentence on the right subject counts something else."""
    counted = set(terms(" ".join(_counted_words(question))))
    return not counted or bool(counted & _ANY_WORDING) or bool(counted & term_set(sentence))


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


@dataclass(frozen=True)
class Focus:
    """What a question is about, worked out once per question: its terms, the query's rarity
    weights of those terms (`own`, summing to `own_total`), and the names it asks about."""

    terms: set[str]
    own: dict[str, float]
    own_total: float
    names: set[str]

    @classmethod
    def of(cls, question: str, idf: dict[str, float]) -> Focus:
        question_terms = term_set(question)
        own = {t: w for t, w in idf.items() if t in question_terms}
        return cls(question_terms, own, sum(own.values()) or 1.0, named_terms(question))

    def share(self, present: set[str]) -> float:
        """The rarity-weighted share of the question's terms that `present` holds."""
        return sum(w for t, w in self.own.items() if t in present) / self.own_total


@dataclass
class Analysis:
    """One question (or part) read against its candidate sentences: the features the learned models
    score, kept whole so that training sees exactly what answering sees."""

    question: str
    kind: str
    focus: Focus  # the question's terms, its rare ones weighted, and its names
    candidates: list[Candidate]  # all of them, cheap features filled in
    cheap: np.ndarray  # SENTENCE_CHEAP rows, one per candidate
    shortlist: list[Candidate] = field(default_factory=list)  # the best by the cheap model, embedded
    full: np.ndarray | None = None  # SENTENCE_FULL rows, one per shortlisted candidate
    asked: np.ndarray | None = None  # QUESTION features of the best shortlisted sentence


class ExtractiveAnswerer:
    """Chooses the sentences that answer, with small models learned from the dev set's tune split.

    Every sentence of the best articles is a candidate. A cheap model (words, ranks, the kind of
    answer asked for and whether the sentence adds such a thing to the question) shortlists them;
    the shortlist is embedded and a second model adds meaning. A third model, over the best
    sentence's chance and how much of the question's focus the evidence covers, decides whether
    the articles answer at all (`features.py`, `scripts/train_answerer.py`).
    """

    def __init__(self, reader: StoreReader, embedder: Embedder, settings: AnswerSettings,
                 models: AnswerModels | None = None) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings
        self.models = models or bundled_models()
        self._texts: dict[str, str] = {}  # article texts of the current candidates
        self._terms: dict[str, set[str]] = {}  # their terms, read once: coverage is asked per part and per stage
        self._idf: dict[str, float] = {}  # the query's terms, weighted by rarity

    def stream(self, request: Request) -> Iterator[Event]:
        yield self.answer(request)

    def answer(self, request: Request, **given: Any) -> Answer:
        """The request's chosen sentences, composed and cited, or the abstention naming the closest
        articles. `given` fields (a generative answerer's fallback: who, why, what it wrote) go into
        the same Answer."""
        choice = request.choice
        if choice.sentences:
            text, citations = compose(choice.sentences, self.reader)
        else:
            text, citations = abstention(request.hits, request.period), []
        request.lap("answer")
        return request.answer(text, citations, abstained=not choice.sentences, confidence=choice.confidence,
                              **given)

    def choose(self, question: str, query: str, query_vector: np.ndarray, hits: list[Hit]) -> Choice:
        """The sentences that answer, best first, and the chance that the articles answer at all;
        no sentences when they do not. Each part of a compound question is answered on its own,
        and the answer holds what was found."""
        sentences = self.candidates(query, hits)
        parts = question_parts(question)
        if len(parts) == 1:
            return self._select(self.analyse(question, query, query_vector, sentences, hits),
                                self.settings.max_sentences)
        chosen: list[Candidate] = []
        confidence: list[float] = []
        share = max(self.settings.part_sentences, self.settings.max_sentences // len(parts))
        for part, vector in zip(parts, self.embedder.encode_remembered(parts)):
            # each part scores its own copies of the sentences, read once
            choice = self._select(self.analyse(part, query, vector, [replace(c) for c in sentences], hits), share)
            if choice.sentences:
                confidence.append(choice.confidence)
            for c in choice.sentences:
                if all((c.hit.article_id, c.position) != (o.hit.article_id, o.position) for o in chosen):
                    chosen.append(c)
        return Choice(chosen, min(confidence, default=0.0))

    def candidates(self, query: str, hits: list[Hit]) -> list[Candidate]:
        """Every sentence of the best articles and of the other passages (the answer, a reason or
        a figure, is often told away from the passage that matched the question's words), less
        boilerplate; the query's term weights for scoring them."""
        sentences, self._texts = passage_sentences(self.reader, hits[: self.settings.passages], _MIN_WORDS,
                                                   whole_articles=_WHOLE_ARTICLES)
        self._terms = {}
        df, n = self.reader.document_frequencies(terms(query))
        self._idf = {t: math.log(1 + (n - count + 0.5) / (count + 0.5)) for t, count in df.items()}
        return [c for c in sentences if not is_boilerplate(c.text)]

    def analyse(self, question: str, query: str, query_vector: np.ndarray, candidates: list[Candidate],
                hits: list[Hit]) -> Analysis:
        """Cheap features of every candidate, the shortlist by the cheap model, its full features,
        and the question's features for the best of it."""
        kind = question_kind(question)
        focus = Focus.of(question, self._idf)
        analysis = Analysis(question, kind, focus, candidates, self._cheap_features(kind, question, focus, candidates))
        if not candidates:
            return analysis
        models = self.models
        for c, p in zip(candidates, models.cheap.probability(analysis.cheap)):
            c.cheap = float(p)
        analysis.shortlist = sorted(candidates, key=lambda c: -c.cheap)[: self.settings.rerank]
        for c, v in zip(analysis.shortlist, self.embedder.encode_remembered([c.text for c in analysis.shortlist])):
            c.vector, c.meaning = v, float(v @ query_vector)
        index = {id(c): i for i, c in enumerate(candidates)}
        analysis.full = self._full_features(analysis.shortlist, analysis.cheap[[index[id(c)] for c in analysis.shortlist]])
        for c, p in zip(analysis.shortlist, models.sentence.probability(analysis.full)):
            c.score = float(p)
        order = sorted(range(len(analysis.shortlist)), key=lambda i: -analysis.shortlist[i].score)
        analysis.shortlist = [analysis.shortlist[i] for i in order]  # best first, rows kept beside their sentence
        analysis.full = analysis.full[order]
        analysis.asked = self._question_features(analysis, hits)
        return analysis

    def _select(self, analysis: Analysis, max_sentences: int) -> Choice:
        """The best sentence with the answer's form, and the few that add to it; nothing when the
        answerable model says the articles do not answer."""
        shortlist, settings = analysis.shortlist, self.settings
        best = next((c for c in shortlist if has_answer_form(analysis.kind, analysis.question, c.text)), None)
        if best is None or analysis.asked is None:
            return Choice()
        confidence = float(self.models.answerable.probability(analysis.asked[None, :])[0])
        if confidence < self.models.threshold or (settings.names_required and not self._coverage(
                best.hit.article_id, analysis.focus.names)):
            return Choice(confidence=confidence)  # unsure, or about none of the names the question asks about
        chosen = [best]
        for c in shortlist:
            if c is best:
                continue
            if len(chosen) >= max_sentences:
                break
            same_article = c.hit.article_id == best.hit.article_id
            if c.score < (settings.keep_within if same_article else settings.keep_other_within) * best.score:
                continue  # another article must come close to the best to be cited beside it
            if any(float(c.vector @ o.vector) > settings.duplicate_similarity for o in chosen):
                continue  # says again what a chosen sentence says (often another outlet's copy)
            chosen.append(c)
        return Choice(chosen, confidence)

    def _cheap_features(self, kind: str, question: str, focus: Focus, candidates: list[Candidate]) -> np.ndarray:
        idf = self._idf
        total = sum(idf.values()) or 1.0
        question_terms = focus.terms
        article_rank = {a: r for r, a in enumerate(dict.fromkeys(c.hit.article_id for c in candidates))}
        present = [term_set(c.text) for c in candidates]
        anchor: dict[str, Candidate] = {}  # each article's sentence most like the question in words
        for c, p in zip(candidates, present):
            c.lexical = sum(w for t, w in idf.items() if t in p) / total
            if c.hit.article_id not in anchor or c.lexical > anchor[c.hit.article_id].lexical:
                anchor[c.hit.article_id] = c
        by_place = {(c.hit.article_id, c.position): c for c in candidates}
        coverage = {a: self._coverage(a, focus.names) for a in article_rank}
        group = "why_how" if kind in ("why", "how") else "entity" if kind else ""
        rows = np.zeros((len(candidates), len(SENTENCE_CHEAP)))
        for row, c, p in zip(rows, candidates, present):
            strong, weak = cues(kind, c.text)
            prev, nxt = by_place.get((c.hit.article_id, c.position - 1)), by_place.get((c.hit.article_id, c.position + 1))
            best = anchor[c.hit.article_id]
            near = 1 / (1 + abs(c.position - best.position))
            restate = restatement(question_terms, p)
            values = {
                "lexical": c.lexical, "own_lexical": focus.share(p),
                "article_lexical": best.lexical, "prev_lexical": prev.lexical if prev else 0.0,
                "next_lexical": nxt.lexical if nxt else 0.0, "anchor_near": near,
                "hit_rank": 1 / (1 + c.hit_rank), "article_rank": 1 / (1 + article_rank[c.hit.article_id]),
                "cue_strong": float(strong), "cue_weak": float(weak),
                "form": float(has_answer_form(kind, question, c.text)),
                "typed_new": float(typed_new(kind, question_terms, c.text, strong)),
                "new_names": new_names_feature(question_terms, c.text),
                "new_number": float(has_new_number(question_terms, c.text)),
                "lead": float(c.position == 0), "position": position_feature(c.position),
                "length": length_feature(c.text), "coverage": coverage[c.hit.article_id],
                "why_how": float(group == "why_how"), "entity": float(group == "entity"),
                "restate_why_how": restate * (group == "why_how"), "restate_entity": restate * (group == "entity"),
                "restate_other": restate * (group == ""),
                "near_why_how": near * (group == "why_how"), "cue_why_how": float(strong) * (group == "why_how"),
            }
            row[:] = [values[name] for name in SENTENCE_CHEAP]
        return rows

    @staticmethod
    def _full_features(shortlist: list[Candidate], cheap: np.ndarray) -> np.ndarray:
        best_meaning: dict[str, float] = {}
        for c in shortlist:
            best_meaning[c.hit.article_id] = max(best_meaning.get(c.hit.article_id, -1.0), c.meaning)
        top = max((c.meaning for c in shortlist), default=0.0)
        extra = np.asarray([(c.meaning, best_meaning[c.hit.article_id], top - c.meaning) for c in shortlist],
                           dtype=np.float64).reshape(len(shortlist), 3)
        return np.hstack([cheap, extra])

    def _question_features(self, analysis: Analysis, hits: list[Hit]) -> np.ndarray:
        """How sure the best sentence is, and how much of the question's focus the evidence holds:
        its rare terms near the best sentence and in its article, and the rarest one missing."""
        shortlist = analysis.shortlist
        best = shortlist[0]
        focus = analysis.focus
        text = self._texts.get(best.hit.article_id, "")
        spans = self.reader.sentences(best.hit.article_id)
        window = spans[max(0, best.position - _FOCUS_WINDOW): best.position + _FOCUS_WINDOW + 1]
        near = term_set(text[window[0].start:window[-1].end]) if window else set()
        everywhere = self._article_terms(best.hit.article_id)
        top_idf = max(self._idf.values(), default=1.0) or 1.0
        missing = [w for t, w in focus.own.items() if t not in everywhere]
        return np.asarray((
            best.score, shortlist[1].score if len(shortlist) > 1 else 0.0, max(c.meaning for c in shortlist),
            self._coverage(best.hit.article_id, focus.names), focus.share(near), focus.share(everywhere),
            max(missing, default=0.0) / top_idf, float(bool(analysis.kind)),
            float(has_answer_form(analysis.kind, analysis.question, best.text)),
            max((h.dense_score or 0.0 for h in hits[:1]), default=0.0),
        ), dtype=np.float64)

    def _coverage(self, article_id: str, names: set[str]) -> float:
        """Share of the question's names that the article mentions anywhere (1.0 without names)."""
        if not names:
            return 1.0
        return len(names & self._article_terms(article_id)) / len(names)

    def _article_terms(self, article_id: str) -> set[str]:
        if article_id not in self._terms:
            self._terms[article_id] = term_set(self._texts.get(article_id, ""))
        return self._terms[article_id]


_FOCUS_WINDOW = 2  # sentences on each side of the best one that count as "near" it


def cues(kind: str, sentence: str) -> tuple[bool, bool]:
    """Whether a sentence carries the strong and the weak cue of what a question of this kind asks for."""
    if kind not in _CUES:
        return False, False
    strong, weak = _CUES[kind]
    return bool(strong.search(sentence)), bool(weak.search(sentence))


@functools.lru_cache(maxsize=1)
def bundled_models() -> AnswerModels:
    """The models shipped in data/answerer.json, read once."""
    return AnswerModels.load()
