"""Answer quality on a development question set: key facts, citations, quotes, abstention.

The question set is JSON lines, one question a line:

    {"id": "q03", "question": "How many captured rebels did Sudan's president pardon in March 2017?",
     "type": "number", "answerable": true, "gold": ["2089"], "facts": ["259"]}

`id`, `question` and `answerable` are required; `type` groups questions in the report, `gold` lists
the articles a correct answer cites and `facts` short phrases it contains (both empty for a question
the articles cannot answer); other keys (a `note`) are ignored. DEVSET, the default, asks about
the demo corpus; it ships with the package so that `newsqa eval answers` works wherever it is installed.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .qa import NewsQA
from .types import Answer

DEVSET = Path(__file__).resolve().parent / "data" / "devset.jsonl"


@dataclass
class Outcome:
    """How one question went."""

    id: str
    question: str
    type: str
    answerable: bool
    abstained: bool
    fact_recall: float  # share of key facts in the answer text (answerable questions)
    citations_gold: bool  # every citation points at a gold article
    quotes_valid: bool  # every quote is its article's text at its offsets
    score: float  # the best sentence's score (0 when abstaining)
    ms: float
    text: str
    problems: list[str] = field(default_factory=list)


def load_questions(path: str | Path) -> list[dict[str, Any]]:
    """Read a question set; ValueError says which file and line is wrong and how."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ValueError(f"no question set at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the question set ({exc})") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(item, dict):
            raise ValueError(f"{path}:{number}: expected one JSON object a line")
        for key, kind in (("id", str), ("question", str), ("answerable", bool)):
            if not isinstance(item.get(key), kind):
                raise ValueError(f"{path}:{number}: {key!r} is missing or not a {kind.__name__}")
        questions.append(item)
    if not questions:
        raise ValueError(f"{path}: no questions (one JSON object a line)")
    return questions


def judge(qa: NewsQA, item: dict[str, Any], answer: Answer) -> Outcome:
    text = answer.text.casefold()
    facts = item.get("facts") or []
    found = [f for f in facts if f.casefold() in text]
    gold = set(item.get("gold") or [])
    cited = {c.article_id for c in answer.citations}
    valid = True
    for c in answer.citations:
        article = qa.article(c.article_id)
        valid = valid and article is not None and article.text[c.start:c.end] == c.quote
    outcome = Outcome(
        id=item["id"], question=item["question"], type=item.get("type", ""), answerable=bool(item["answerable"]),
        abstained=answer.abstained, fact_recall=len(found) / len(facts) if facts else 0.0,
        citations_gold=bool(cited) and cited <= gold, quotes_valid=valid,
        score=max((c.score for c in answer.citations), default=0.0), ms=answer.timings.get("total", 0.0),
        text=answer.text)
    if outcome.answerable and answer.abstained:
        outcome.problems.append("abstained on an answerable question")
    elif outcome.answerable:
        missing = [f for f in facts if f not in found]
        if missing:
            outcome.problems.append(f"missing facts: {missing}")
        if not outcome.citations_gold:
            outcome.problems.append(f"cited {sorted(cited - gold)} outside gold {sorted(gold)}")
    elif not answer.abstained:
        outcome.problems.append("answered an unanswerable question")
    if not valid:
        outcome.problems.append("a quote does not match its article")
    return outcome


def run(qa: NewsQA, questions: list[dict[str, Any]], progress: bool = False) -> list[Outcome]:
    """Ask and judge every question, after a warm-up question that keeps model loading out of the timings."""
    qa.ask("warm-up question")
    return [judge(qa, item, qa.ask(item["question"]))
            for item in tqdm(questions, desc="Questions", unit="question", disable=not progress)]


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    answered = [o for o in answerable if not o.abstained]
    abstained = [o for o in outcomes if o.abstained]
    true_abstentions = [o for o in abstained if not o.answerable]
    by_type: dict[str, list[Outcome]] = defaultdict(list)
    for o in answerable:
        by_type[o.type].append(o)
    return {
        "questions": len(outcomes), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "fact_recall": _mean(o.fact_recall for o in answerable),
        "citation_accuracy": _mean(o.citations_gold for o in answered),
        "quote_validity": _mean(o.quotes_valid for o in outcomes),
        "abstention_precision": len(true_abstentions) / len(abstained) if abstained else 1.0,
        "abstention_recall": len(true_abstentions) / len(unanswerable) if unanswerable else 1.0,
        "answered_share": len(answered) / len(answerable) if answerable else 0.0,
        "by_type": {t: {"n": len(os_), "fact_recall": _mean(o.fact_recall for o in os_),
                        "citation_accuracy": _mean(o.citations_gold for o in os_ if not o.abstained)}
                    for t, os_ in sorted(by_type.items())},
        "ms_p50": statistics.median(o.ms for o in outcomes) if outcomes else 0.0,
    }


def worst(outcomes: list[Outcome], n: int = 10) -> list[Outcome]:
    """The questions that went worst: wrong abstention first, then fewest facts found."""
    def badness(o: Outcome) -> tuple[int, float]:
        if o.answerable:
            return (2 if o.abstained else 1 if not o.citations_gold else 0, 1 - o.fact_recall)
        return (2 if not o.abstained else 0, 0.0)
    return sorted((o for o in outcomes if o.problems), key=badness, reverse=True)[:n]


def report(outcomes: list[Outcome]) -> str:
    """Markdown tables: the metrics, the per-type breakdown, then the worst questions and what went wrong."""
    summary = summarize(outcomes)
    lines = ["| metric | value |", "|---|---|"]
    for key in ("questions", "answerable", "unanswerable", "fact_recall", "citation_accuracy", "quote_validity",
                "abstention_precision", "abstention_recall", "answered_share", "ms_p50"):
        value = summary[key]
        lines.append(f"| {key} | {value:.3f} |" if isinstance(value, float) else f"| {key} | {value} |")
    lines += ["", "| type | n | fact recall | citation accuracy |", "|---|---|---|---|"]
    for kind, row in summary["by_type"].items():
        lines.append(f"| {kind} | {row['n']} | {row['fact_recall']:.3f} | {row['citation_accuracy']:.3f} |")
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
