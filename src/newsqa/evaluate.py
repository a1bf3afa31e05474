"""Answer quality on a development question set: fully right, key facts, citations, quotes, abstention.

The question set is JSON lines, one question a line:

    {"id": "a001", "question": "How many captured rebels did Sudan's president pardon in March 2017?",
     "type": "factoid", "answerable": true, "gold": ["2089"], "facts": ["259"],
     "evidence": ["<the article's sentence holding 259>"], "history": [], "kind": "", "split": "test"}

`id`, `question` and `answerable` are required. `type` (one of TYPES) groups questions in the report; `gold`
lists the articles a correct answer cites and `facts` short phrases it contains as whole words (both empty for
a question the articles cannot answer, whose `kind` says why); `history` is the conversation a follow-up is
asked in (chat messages); `split` is `tune` or `test`. Other keys (`evidence`, a `note`) are ignored here;
scripts/devset.py validates them. DEVSET, the default, asks about the demo corpus; it ships with the package so
that `newsqa eval answers` works wherever it is installed.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .clean import is_boilerplate
from .qa import NewsQA
from .types import Answer

DEVSET = Path(__file__).resolve().parent / "data" / "devset.jsonl"
TYPES = ("factoid", "why-how", "two-article", "time", "follow-up", "outlet", "unanswerable")
KINDS = ("off-topic", "missing-detail", "after-corpus")  # why an unanswerable question is
SPLITS = ("tune", "test")


@dataclass
class Outcome:
    """How one question went."""

    id: str
    question: str
    type: str
    answerable: bool
    abstained: bool
    fact_recall: float  # share of key facts in the answer text as whole words (answerable questions)
    cites_gold: bool  # at least one citation lies in a gold article
    citations_gold: float  # share of the citations that lie in a gold article (0 with no citations)
    fully_right: bool  # answerable: every fact, a gold citation, no abstention; unanswerable: abstained
    quotes_valid: bool  # every quote is its article's text at its offsets
    boilerplate_quotes: int  # quotes that are page furniture (clean.is_boilerplate): must stay 0
    score: float  # the best sentence's score (0 when abstaining)
    ms: float
    text: str
    problems: list[str] = field(default_factory=list)


def contains_words(text: str, phrase: str, casefold: bool = True) -> bool:
    """`phrase` occurs in `text` as whole words: "5,000 euros" is not inside "75,000 euros"."""
    if casefold:
        text, phrase = text.casefold(), phrase.casefold()
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def json_lines(text: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, object, "") for each JSON object a line, or (line number, None, what is wrong)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"not JSON ({exc.msg} at column {exc.colno})"
            continue
        yield (number, item, "") if isinstance(item, dict) else (number, None, "expected one JSON object a line")


def load_questions(path: str | Path) -> list[dict[str, Any]]:
    """Read a question set; ValueError says which file and line is wrong and how."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"no question set at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the question set ({exc})") from None
    questions = []
    for number, item, problem in json_lines(text):
        if item is None:
            raise ValueError(f"{path}:{number}: {problem}")
        for key, kind in (("id", str), ("question", str), ("answerable", bool)):
            if not isinstance(item.get(key), kind):
                raise ValueError(f"{path}:{number}: {key!r} is missing or not a {kind.__name__}")
        questions.append(item)
    if not questions:
        raise ValueError(f"{path}: no questions (one JSON object a line)")
    return questions


def judge(qa: NewsQA, item: dict[str, Any], answer: Answer) -> Outcome:
    facts = item.get("facts") or []
    found = [f for f in facts if contains_words(answer.text, f)]
    gold = set(item.get("gold") or [])
    cited = [c.article_id for c in answer.citations]
    in_gold = sum(c in gold for c in cited)
    valid = True
    for c in answer.citations:
        article = qa.article(c.article_id)
        valid = valid and article is not None and article.text[c.start:c.end] == c.quote
    answerable = bool(item["answerable"])
    right = (len(found) == len(facts) and in_gold > 0 and not answer.abstained) if answerable else answer.abstained
    outcome = Outcome(
        id=item["id"], question=item["question"], type=item.get("type", ""), answerable=answerable,
        abstained=answer.abstained, fact_recall=len(found) / len(facts) if facts else 0.0, cites_gold=in_gold > 0,
        citations_gold=in_gold / len(cited) if cited else 0.0, fully_right=right, quotes_valid=valid,
        boilerplate_quotes=sum(is_boilerplate(c.quote) for c in answer.citations),
        score=max((c.score for c in answer.citations), default=0.0), ms=answer.timings.get("total", 0.0),
        text=answer.text)
    if outcome.answerable and answer.abstained:
        outcome.problems.append("abstained on an answerable question")
    elif outcome.answerable:
        missing = [f for f in facts if f not in found]
        if missing:
            outcome.problems.append(f"missing facts: {missing}")
        if not outcome.cites_gold:
            outcome.problems.append(f"cited {sorted(set(cited))}, none in gold {sorted(gold)}")
    elif not answer.abstained:
        outcome.problems.append("answered an unanswerable question")
    if not valid:
        outcome.problems.append("a quote does not match its article")
    if outcome.boilerplate_quotes:
        outcome.problems.append(f"quotes {outcome.boilerplate_quotes} boilerplate sentence(s)")
    return outcome


def select(questions: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    """The questions of one split (`tune` or `test`), or all of them for `all`."""
    return questions if split == "all" else [q for q in questions if q.get("split") == split]


def run(qa: NewsQA, questions: list[dict[str, Any]], progress: bool = False) -> list[Outcome]:
    """Ask and judge every question (a follow-up in its conversation), after a warm-up question that keeps model
    loading out of the timings."""
    qa.ask("warm-up question")
    return [judge(qa, item, qa.ask(item["question"], history=item.get("history") or None))
            for item in tqdm(questions, desc="Questions", unit="question", disable=not progress)]


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    answered = [o for o in answerable if not o.abstained]
    abstained = [o for o in outcomes if o.abstained]
    true_abstentions = [o for o in abstained if not o.answerable]
    by_type: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_type[o.type].append(o)
    return {
        "questions": len(outcomes), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "fully_right": _mean(o.fully_right for o in outcomes),
        "fact_recall": _mean(o.fact_recall for o in answerable),
        "cites_gold": _mean(o.cites_gold for o in answered),
        "citations_gold": _mean(o.citations_gold for o in answered),
        "quote_validity": _mean(o.quotes_valid for o in outcomes),
        "boilerplate_quotes": sum(o.boilerplate_quotes for o in outcomes),
        "abstention_precision": len(true_abstentions) / len(abstained) if abstained else 1.0,
        "abstention_recall": len(true_abstentions) / len(unanswerable) if unanswerable else 1.0,
        "wrongly_abstained": len(answerable) - len(answered),
        "answered_share": len(answered) / len(answerable) if answerable else 0.0,
        "by_type": {t: {"n": len(os_), "fully_right": _mean(o.fully_right for o in os_),
                        "fact_recall": _mean(o.fact_recall for o in os_ if o.answerable),
                        "cites_gold": _mean(o.cites_gold for o in os_ if o.answerable and not o.abstained)}
                    for t, os_ in sorted(by_type.items())},
        "ms_p50": statistics.median(o.ms for o in outcomes) if outcomes else 0.0,
    }


def worst(outcomes: list[Outcome], n: int = 10) -> list[Outcome]:
    """The questions that went worst: wrong abstention first, then fewest facts found."""
    def badness(o: Outcome) -> tuple[int, float]:
        if o.answerable:
            return (2 if o.abstained else 1 if not o.cites_gold else 0, 1 - o.fact_recall)
        return (2 if not o.abstained else 0, 0.0)
    return sorted((o for o in outcomes if o.problems), key=badness, reverse=True)[:n]


METRICS = {  # what report prints, in order, with what each means
    "questions": "questions asked", "answerable": "of which answerable", "unanswerable": "of which unanswerable",
    "fully_right": "every fact as whole words, a gold citation, no abstention (unanswerable: abstained)",
    "fact_recall": "key facts found, answerable questions", "cites_gold": "answers citing a gold article",
    "citations_gold": "citations in a gold article (mean share per answer)",
    "quote_validity": "quotes equal to their article's text",
    "boilerplate_quotes": "quoted sentences that are page furniture (share strips, READ MORE, tweet signatures)",
    "abstention_precision": "abstentions that were right",
    "abstention_recall": "unanswerable questions abstained on",
    "wrongly_abstained": "answerable questions abstained on", "answered_share": "answerable questions answered",
    "ms_p50": "median answer time, ms"}


def report(outcomes: list[Outcome]) -> str:
    """Markdown tables: the metrics, the per-type breakdown, then the worst questions and what went wrong."""
    summary = summarize(outcomes)
    lines = ["| metric | value | meaning |", "|---|---|---|"]
    for key, meaning in METRICS.items():
        value = summary[key]
        lines.append(f"| {key} | {value:.3f} | {meaning} |" if isinstance(value, float)
                     else f"| {key} | {value} | {meaning} |")
    lines += ["", "| type | n | fully right | fact recall | cites gold |", "|---|---|---|---|---|"]
    for kind, row in summary["by_type"].items():
        lines.append(f"| {kind} | {row['n']} | {row['fully_right']:.3f} | {row['fact_recall']:.3f} | "
                     f"{row['cites_gold']:.3f} |")
    lines += ["", "Worst questions:", ""]
    lines += [f"- {o.id} ({o.type}) {o.question} -> {'; '.join(o.problems)}" for o in worst(outcomes)] or ["- none"]
    return "\n".join(lines)


def to_json(outcomes: list[Outcome]) -> dict[str, Any]:
    """What `report` shows, as one JSON object, with every question's outcome."""
    return {"summary": summarize(outcomes),
            "worst": [{"id": o.id, "type": o.type, "question": o.question, "problems": o.problems}
                      for o in worst(outcomes)],
            "outcomes": [asdict(o) for o in outcomes]}


def _mean(values: Iterable[float | bool]) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else 0.0
