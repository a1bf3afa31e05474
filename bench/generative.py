"""Replay: does verification catch unsupported sentences, and what supported ones does it wrongly remove?

For each question of the dev set, a scripted OpenAI-compatible server (scripted_server.py) replays an
answer built from the extractive answer over the same passages, cited with the prompt's article
numbers. Its sentences are of known kinds:

  supported    reworded   each cited sentence, lightly reworded (attribution dropped, a synonym or two)
               shortened  the first cited sentence cut after its first clause
               merged     two cited sentences of one article joined by "and"
               restated   the question restated with a key fact (devset "facts") that a cited sentence of a
                          gold article holds: "Why did the US sanction Turkey: S-400." (how models answer)
  unsupported  number     a cited sentence with one number changed to one its article does not hold
               name       a cited sentence with a name swapped for one from another article of the prompt
               uncited    a sentence of another article in the prompt, cited as the first one
               invented   a plausible news sentence no article states

The generative answerer (openai: pointed at that server) answers each question; a sentence was
removed when it is in Answer.unsupported. Questions the extractive answerer abstains on get only
uncited and invented sentences.

--calibrate sweeps the meaning threshold (GenerationSettings.support_threshold) instead, on the odd
questions (q01, q03, ...): for each threshold, the share of supported sentences whose best cited
sentence is that close (kept) and of uncited and invented ones that are not (removed: number and
name changes keep the meaning and are the fact check's to catch). The recommendation is the best
balanced accuracy among thresholds that keep at least --min-kept of the supported sentences (ties go
to the lower threshold). The replay reports the even questions, held out from calibration, apart.

Run: .venv/bin/python bench/generative.py --index index [--calibrate] [--questions FILE]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import recommend, sweep, write
from scripted_server import ScriptedServer

from newsqa import NewsQA
from newsqa.answer.compose import passage_sentences
from newsqa.answer.prompt import Source, sources_of
from newsqa.answer.verify import CALENDAR, claims, facts, verify
from newsqa.evaluate import DEVSET, load_questions
from newsqa.lexical import words
from newsqa.store import Reader
from newsqa.types import Answer

SUPPORTED = ("reworded", "shortened", "merged", "restated")
UNSUPPORTED = ("number", "name", "uncited", "invented")
INVENTED = [
    "Officials said the decision would be reviewed by an independent commission next spring.",
    "Analysts expect the move to push consumer prices sharply higher over the coming months.",
    "The government has since apologised and promised compensation to everyone affected.",
    "Critics said the plan had been drawn up in secret without consulting local communities.",
    "Talks between the two sides are expected to resume after the holidays.",
    "Thousands of people gathered in the capital to celebrate the announcement.",
    "The company said it would appeal the ruling at the highest court.",
    "Experts warned that similar incidents could happen again unless safety rules are tightened.",
]
_SWAPS = [(" said ", " stated "), (" says ", " states "), (" because ", " as "), (" announced ", " said "),
          (" about ", " around "), (" more than ", " over "), (" began ", " started "), (" after ", " following "),
          (" will ", " would "), (" also ", " "), (" people ", " persons "), (" however", " though")]


@dataclass
class Line:
    """One scripted sentence: its kind, its text, and the article number it cites."""

    kind: str
    text: str
    number: int

    @property
    def supported(self) -> bool:
        return self.kind in SUPPORTED

    def scripted(self) -> str:
        """As a model writes it: "... sentence [n]."."""
        body, stop = (self.text[:-1], self.text[-1]) if self.text[-1] in ".!?" else (self.text, ".")
        return f"{body} [{self.number}]{stop}"


def reword(quote: str) -> str:
    text = " ".join(quote.split())
    text = re.sub(r"^According to [^,]{1,60}, (\w)", lambda m: m.group(1).upper(), text)
    text = re.sub(r",[\"”]? (?:he|she|they|[A-Z][\w.]*(?: [A-Z][\w.]*)*) (?:said|says|added|stressed)\.$", ".", text)
    done = 0
    for old, new in _SWAPS:
        if done < 2 and old in text:
            text, done = text.replace(old, new, 1), done + 1
    return text if text[-1:] in ".!?\"”" else text + "."


def replay(item: dict, answer: Answer, reader: Reader, rng: random.Random) -> list[Line]:
    """The scripted sentences for one question (see the module docstring)."""
    sources = sources_of(answer.passages)
    if not sources:
        return []
    number_of = {s.hits[0].article_id: s.number for s in sources}
    by_number = {s.number: s for s in sources}
    quotes = [(number_of[c.article_id], c.quote) for c in answer.citations if c.article_id in number_of]
    lines = [Line("reworded", reword(q), n) for n, q in quotes]
    if quotes:
        n, first = quotes[0]
        cut = re.search(r"^(\S+(?: \S+){5,}?),\s", first)
        if cut:
            lines.append(Line("shortened", cut.group(1) + ".", n))
        pair = [(m, q) for m, q in quotes if m == n]
        if len(pair) > 1:
            second = pair[1][1]
            lines.append(Line("merged", f"{first.rstrip('.')}, and {second[0].lower()}{second[1:]}", n))
        gold = set(item.get("gold") or [])
        held = [(number_of[c.article_id], f) for c in answer.citations if c.article_id in gold
                for f in item.get("facts") or [] if f.casefold() in c.quote.casefold()]
        if held:
            lines.append(Line("restated", f"{item['question'].rstrip('?').strip()}: {held[0][1]}.", held[0][0]))
        lines += _number_change(quotes, by_number) + _name_swap(quotes, sources, rng)
    cited = {n for n, _ in quotes} or {1}
    others = [s for s in sources if s.number not in cited]
    target = quotes[0][0] if quotes else 1
    if others:
        other = rng.choice(others)
        pool = [c.text for c in passage_sentences(reader, other.hits)[0] if len(c.text.split()) >= 8]
        if pool:
            lines.append(Line("uncited", " ".join(rng.choice(pool).split()), target))
    lines.append(Line("invented", rng.choice(INVENTED), target))
    return lines


def _number_change(quotes: list[tuple[int, str]], by_number: dict[int, Source]) -> list[Line]:
    for n, quote in quotes:
        source_numbers = set(re.findall(r"\d+", by_number[n].text))
        for match in re.finditer(r"\b\d+\b", quote):
            value = int(match.group())
            for changed in (value + 1, value + 3, value * 2 + 7):
                if str(changed) not in source_numbers:
                    text = quote[:match.start()] + str(changed) + quote[match.end():]
                    return [Line("number", reword(text), n)]
    return []


def _name_swap(quotes: list[tuple[int, str]], sources: list[Source], rng: random.Random) -> list[Line]:
    common = {w for s in sources for w in re.findall(r"\b[a-z]\w+", s.text)}
    for n, quote in quotes:
        cited = set(words(next(s.text for s in sources if s.number == n)))
        names = [w for w in facts(quote, common)[1] if words(w)[0] not in CALENDAR]
        strangers = sorted({w for s in sources if s.number != n for w in facts(s.text, common)[1]
                            if not set(words(w)) & cited and words(w)[0] not in CALENDAR and len(w) > 3})
        if names and strangers:
            name = names[0]
            text = re.sub(rf"\b{re.escape(name)}\b", rng.choice(strangers), quote, count=1)
            return [Line("name", reword(text), n)]
    return []


def _claim_texts(line: Line) -> list[str]:
    return [c.text for c in claims(line.scripted())]


def calibrate(qa: NewsQA, items: list[dict], min_kept: float) -> str:
    rng = random.Random(6)
    scored: list[tuple[bool, float]] = []
    by_kind: dict[str, list[float]] = {}
    for item in items:
        answer = qa.ask(item["question"])
        lines = [line for line in replay(item, answer, qa.reader, rng) if line.kind not in ("number", "name")]
        if not lines:
            continue
        verdict = verify(" ".join(line.scripted() for line in lines), sources_of(answer.passages), qa.reader,
                         qa.embedder, threshold=0.0)
        for line in lines:
            closeness = [verdict.closeness.get(text, 0.0) for text in _claim_texts(line)]
            scored.append((line.supported, min(closeness, default=0.0)))
            by_kind.setdefault(line.kind, []).append(min(closeness, default=0.0))
    rows = sweep(scored, 0.30, 0.90)
    best = recommend(rows, min_kept)
    supported = sum(ok for ok, _ in scored)
    lines = ["| threshold | supported kept | uncited + invented removed | balanced accuracy |", "|---|---|---|---|"]
    lines += [f"| {t:.2f} | {k:.3f} | {c:.3f} | {b:.3f} |" for t, k, c, b in rows if round(t * 100) % 4 == 2]
    head = (f"{len(items)} questions (odd ones of the set); {supported} supported and "
            f"{len(scored) - supported} uncited or invented sentences")
    verdict = (f"Recommended support_threshold: {best[0]:.2f} (keeps {best[1]:.3f} of supported sentences, "
               f"removes {best[2]:.3f} of uncited and invented ones; rule: best balanced accuracy keeping "
               f"at least {min_kept:.2f})")
    kinds = ["| kind | sentences | median closeness | lowest | highest |", "|---|---|---|---|---|"]
    kinds += [f"| {k} | {len(v)} | {sorted(v)[len(v) // 2]:.3f} | {min(v):.3f} | {max(v):.3f} |"
              for k, v in by_kind.items()]
    return "\n".join([head, "", *kinds, "", *lines, "", verdict])


def run_replay(index: str, items: list[dict], threshold: float | None) -> str:
    base = NewsQA.open(index)
    rng = random.Random(6)
    removed: dict[str, Counter] = {"calibration": Counter(), "held out": Counter()}
    totals: dict[str, Counter] = {"calibration": Counter(), "held out": Counter()}
    wrong: list[str] = []
    fallbacks = 0
    with ScriptedServer() as server:
        qa = NewsQA.open(index, answerer=f"openai:{server.url}", answer_model="replay")
        if threshold is not None:
            qa.settings = replace(qa.settings, generation=replace(qa.settings.generation, support_threshold=threshold))
        for position, item in enumerate(items):
            lines = replay(item, base.ask(item["question"]), base.reader, rng)
            if not lines:
                continue
            server.script(" ".join(line.scripted() for line in lines))
            answer = qa.ask(item["question"])
            fallbacks += answer.answerer.startswith("extractive")
            reasons = {u.text: u.reason for u in answer.unsupported}
            half = "calibration" if position % 2 == 0 else "held out"
            for line in lines:
                why = [reasons[t] for t in _claim_texts(line) if t in reasons]
                totals[half][line.kind] += 1
                removed[half][line.kind] += bool(why)
                if why and line.supported:
                    wrong.append(f"- {item['id']} {line.kind}: {line.text} -> {why[0]}")
    setting = threshold if threshold is not None else qa.settings.generation.support_threshold
    head = (f"{len(items)} questions; support_threshold {setting:.2f}; answers that fell back to extractive "
            f"(no sentence survived): {fallbacks}")
    out = [head, "",
           "| kind | sentences | removed | removed share | held-out questions: sentences | removed share |",
           "|---|---|---|---|---|---|"]
    for kind in (*SUPPORTED, *UNSUPPORTED):
        n = totals["calibration"][kind] + totals["held out"][kind]
        k = removed["calibration"][kind] + removed["held out"][kind]
        hn, hk = totals["held out"][kind], removed["held out"][kind]
        label = f"{kind} ({'supported' if kind in SUPPORTED else 'unsupported'})"
        out.append(f"| {label} | {n} | {k} | {_share(k, n)} | {hn} | {_share(hk, hn)} |")
    for group, kinds in (("unsupported caught", UNSUPPORTED), ("supported wrongly removed", SUPPORTED)):
        n = sum(totals[h][kind] for h in totals for kind in kinds)
        k = sum(removed[h][kind] for h in removed for kind in kinds)
        hn = sum(totals["held out"][kind] for kind in kinds)
        hk = sum(removed["held out"][kind] for kind in kinds)
        out.append(f"| **{group}** | {n} | {k} | {_share(k, n)} | {hn} | {_share(hk, hn)} |")
    out += ["", "Supported sentences removed:", "", *(wrong or ["- none"])]
    return "\n".join(out)


def _share(k: int, n: int) -> str:
    return f"{k / n:.3f}" if n else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--questions", default=str(DEVSET))
    parser.add_argument("--calibrate", action="store_true", help="sweep the meaning threshold instead")
    parser.add_argument("--min-kept", type=float, default=0.95)
    parser.add_argument("--threshold", type=float, help="replay with this support_threshold")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update bench/results")
    args = parser.parse_args()
    items = load_questions(args.questions)
    if args.calibrate:
        body = calibrate(NewsQA.open(args.index), items[0::2], args.min_kept)
        name, title = "generative-calibration", "Verification threshold calibration"
    else:
        body = run_replay(args.index, items, args.threshold)
        name, title = "generative", "Generative answers: verification on replayed answers"
    print(body)
    if not args.no_write:
        path = write(name, title, f"Index: {args.index}\n\n{body}")
        print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
