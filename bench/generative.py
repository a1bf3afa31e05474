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

--calibrate sweeps the entailment threshold (GenerationSettings.support_threshold) instead, on the odd
questions (q01, q03, ...): for each threshold, the share of supported sentences whose best cited
sentence entails them that strongly (kept) and of uncited and invented ones that it does not (removed:
number and name changes are the fact check's to catch). A restated question's score is the share of
its words its best sentence holds (verify.QUESTION_COVERAGE). The setting itself is tuned with
--adversarial, which holds meaning flips; the replay has none. The recommendation is the best
balanced accuracy among thresholds that keep at least --min-kept of the supported sentences (ties go
to the lower threshold). The replay reports the even questions, held out from calibration, apart.

--adversarial verifies the adversarial set (bench/data/adversarial.jsonl, built by make_adversarial.py):
meaning flips of corpus sentences in nine classes and faithful rewordings written by hand. Each claim
cites the passage (chunk) that holds its source sentence; claims are verified five to an answer, each
citing its own article. The tune split also holds bench/data/adversarial_tune_extra.jsonl (more flips of
the classes caught least, from other articles: make_tune_extra.py). Reported per split (tune, test): the share of each flip class removed, the
share of faithful rewordings removed, and ms of verification per answer of five sentences (with the
machine's load average, as the machine is shared).

Run: .venv/bin/python bench/generative.py --index index [--calibrate | --adversarial] [--questions FILE]
"""

from __future__ import annotations

import argparse
import os
import json
import random
import re
import sys
import time
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
from newsqa.answer.verify import CALENDAR, claims, facts, forget, verify
from newsqa.evaluate import DEVSET, load_questions
from newsqa.lexical import words
from newsqa.store import Reader
from newsqa.types import Answer, Hit

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
                         threshold=0.0)
        for line in lines:
            closeness = [verdict.closeness.get(text, 0.0) for text in _claim_texts(line)]
            scored.append((line.supported, min(closeness, default=0.0)))
            by_kind.setdefault(line.kind, []).append(min(closeness, default=0.0))
    rows = sweep(scored, 0.02, 0.98)  # entailment probabilities
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


ADVERSARIAL = Path(__file__).resolve().parent / "data" / "adversarial.jsonl"
EXTRA_TUNE = ADVERSARIAL.with_name("adversarial_tune_extra.jsonl")  # tune-split flips only
ANSWER_SENTENCES = 5


def passage_of(reader: Reader, article_id: str, sentence: str) -> Hit:
    """The chunk of the article that holds `sentence`, as a retrieved hit."""
    article = reader.article(article_id)
    if article is None or sentence not in article.text:
        what = f"article {article_id!r}" if article is None else f"sentence {sentence[:60]!r}... of {article_id!r}"
        raise SystemExit(f"{what} is not in the index {reader.dir}; build the set against it "
                         f"(bench/make_adversarial.py --index) or pass --index")
    at = article.text.index(sentence)
    row = reader.db.execute("SELECT id, start, end FROM chunks WHERE article_id = ? AND start <= ? ORDER BY start DESC "
                            "LIMIT 1", (article_id, at)).fetchone()
    return Hit(row["id"], article_id, article.title, article.source, article.published, article.url,
               article.text[row["start"]:row["end"]], row["start"], row["end"], 1.0)


def run_adversarial(index: str, path: Path, threshold: float | None) -> str:
    """The adversarial set verified at the settings' threshold (or `threshold`), per split, with a threshold
    sweep on the tune split (see the module docstring)."""
    qa = NewsQA.open(index)
    setting = threshold if threshold is not None else qa.settings.generation.support_threshold
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if path == ADVERSARIAL and EXTRA_TUNE.exists():
        items += [json.loads(line) for line in EXTRA_TUNE.read_text(encoding="utf-8").splitlines()]
    judged, seconds = _judge_adversarial(qa, items)
    out = [f"{len(items)} sentences ({sum(not i['faithful'] for i in items)} flips, "
           f"{sum(i['faithful'] for i in items)} faithful rewordings); support_threshold {setting:.2f}", ""]
    for split in ("tune", "test"):
        rows = [(item, score, fact) for item, score, fact in judged if item["split"] == split]
        answers = -(-len(rows) // ANSWER_SENTENCES)
        out += [f"### {split} split: {len(rows)} sentences", "", *_adversarial_table(rows, setting), "",
                f"Verification: {1000 * seconds[split] / answers:.1f} ms per answer of {ANSWER_SENTENCES} sentences, "
                f"{1000 * seconds[split + ' cpu'] / answers:.1f} ms of it on the CPU ({answers} answers, caches "
                f"emptied before each; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)", ""]
        if split == "tune":
            out += ["Threshold sweep (tune split only):", "", "| threshold | flips caught | faithful removed |",
                    "|---|---|---|"]
            for step in range(5, 100, 5):
                t = step / 100
                flips = [score < t or fact for item, score, fact in rows if not item["faithful"]]
                faithful = [score < t or fact for item, score, fact in rows if item["faithful"]]
                out.append(f"| {t:.2f} | {sum(flips) / len(flips):.3f} | {sum(faithful) / len(faithful):.3f} |")
            out.append("")
        else:
            wrong = [f"- {item['class']} ({score:.2f}): {item['claim']}" for item, score, fact in rows
                     if (score < setting or fact) == item["faithful"]]
            out += ["Test sentences judged wrongly (flips kept, faithful removed):", "", *(wrong or ["- none"]), ""]
    return "\n".join(out)


def _judge_adversarial(qa: NewsQA, items: list[dict]) -> tuple[list[tuple[dict, float, bool]], dict[str, float]]:
    """Each item with its entailment score and whether the fact check removes it; seconds of verification per
    split. Items are verified five to an answer, each citing the passage that holds its source sentence."""
    hits = {(i["article_id"], i["sentence"]): passage_of(qa.reader, i["article_id"], i["sentence"]) for i in items}
    judged: list[tuple[dict, float, bool]] = []
    seconds = {"tune": 0.0, "test": 0.0, "tune cpu": 0.0, "test cpu": 0.0}
    for split in ("tune", "test"):
        chosen = [i for i in items if i["split"] == split]
        for start in range(0, len(chosen), ANSWER_SENTENCES):
            group = chosen[start:start + ANSWER_SENTENCES]
            sources = [Source(n, [hits[(i["article_id"], i["sentence"])]]) for n, i in enumerate(group, start=1)]
            text = " ".join(f"{i['claim'].rstrip('.')} [{n}]." for n, i in enumerate(group, start=1))
            forget()  # each answer cold: its articles parsed afresh, as in use
            began, cpu = time.perf_counter(), time.process_time()
            verdict = verify(text, sources, qa.reader, threshold=0.0)
            seconds[split] += time.perf_counter() - began
            seconds[f"{split} cpu"] += time.process_time() - cpu
            gone = {u.text.rstrip(".") for u in verdict.unsupported}
            scores = {t.rstrip("."): v for t, v in verdict.closeness.items()}
            judged += [(i, scores.get(i["claim"].rstrip("."), 0.0), i["claim"].rstrip(".") in gone) for i in group]
    return judged, seconds


def _adversarial_table(rows: list[tuple[dict, float, bool]], threshold: float) -> list[str]:
    removed: Counter = Counter()
    totals: Counter = Counter()
    for item, score, fact in rows:
        kind = "faithful (wrongly removed)" if item["faithful"] else item["class"]
        totals[kind] += 1
        removed[kind] += score < threshold or fact
    out = ["| class | sentences | removed | removed share |", "|---|---|---|---|"]
    out += [f"| {kind} | {totals[kind]} | {removed[kind]} | {_share(removed[kind], totals[kind])} |"
            for kind in sorted(totals, key=lambda k: (k.startswith("faithful"), k))]
    flips = sum(totals[k] for k in totals if not k.startswith("faithful"))
    caught = sum(removed[k] for k in removed if not k.startswith("faithful"))
    return [*out, f"| **all flips** | {flips} | {caught} | {_share(caught, flips)} |"]


def _share(k: int, n: int) -> str:
    return f"{k / n:.3f}" if n else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--questions", default=str(DEVSET))
    parser.add_argument("--calibrate", action="store_true", help="sweep the meaning threshold instead")
    parser.add_argument("--adversarial", action="store_true", help="verify the adversarial set instead")
    parser.add_argument("--set", default=str(ADVERSARIAL), help="the adversarial set (JSONL)")
    parser.add_argument("--min-kept", type=float, default=0.95)
    parser.add_argument("--threshold", type=float, help="replay with this support_threshold")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update bench/results")
    args = parser.parse_args()
    items = load_questions(args.questions)
    if args.adversarial:
        body = run_adversarial(args.index, Path(args.set), args.threshold)
        name = "generative-adversarial"
        title = "Verification on the adversarial set: meaning flips and faithful rewordings"
    elif args.calibrate:
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
