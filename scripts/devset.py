#!/usr/bin/env python3
"""Tools for the answer dev set (JSON lines, one question a line; format: newsqa.evaluate).

    scripts/devset.py validate FILE... [--index index]   check every row against the format and the articles
    scripts/devset.py split FILE [--seed 0]              fill empty `split` fields (tune 60% / test 40% by type)
    scripts/devset.py merge OUT IN...                    concatenate question sets, ids unique

`validate` prints `file:line: problem` for each problem and exits 1 when any is an error. Rows migrated from
the old set (ids q01, m01, u01, ...) predate the no-copying rule: copying from their evidence is a warning.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this tree's newsqa, not the venv's

from newsqa.evaluate import KINDS, SPLITS, TYPES, contains_words, json_lines  # noqa: E402
from newsqa.store import connect_readonly, read_manifest  # noqa: E402

KEYS = {"id", "question", "type", "answerable", "gold", "facts", "evidence", "history", "kind", "split"}
OPTIONAL_KEYS = {"note"}
OLD_ID = re.compile(r"[qmu]\d{2}")  # the 79 rows of the first dev set, tuned on before the split existed
MAX_FACTS = 3
MAX_FACT_WORDS = 6
COPY_RUN = 4  # this many consecutive question words found in the evidence count as copying
TUNE_SHARE = 0.6
Row = tuple[Path, int, dict[str, Any]]


# ---------------------------------------------------------------- reading and writing


def read_rows(paths: list[Path]) -> tuple[list[Row], list[str]]:
    """The JSON objects of the files with their line numbers, and a `file:line: problem` for each unreadable line
    and each repeated id."""
    rows, problems = [], []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read ({exc})")
            continue
        for number, item, problem in json_lines(text):
            if item is None:
                problems.append(f"{path}:{number}: {problem}")
            else:
                rows.append((path, number, item))
    return rows, problems + list(duplicate_ids(rows))


def write_rows(path: Path, items: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")


def duplicate_ids(rows: list[Row]) -> Iterator[str]:
    first: dict[str, str] = {}
    for path, number, item in rows:
        key = item.get("id")
        if not isinstance(key, str):
            continue
        if key in first:
            yield f"{path}:{number}: id {key!r} already used at {first[key]}"
        else:
            first[key] = f"{path}:{number}"


# ---------------------------------------------------------------- validate


class Articles:
    """Article texts of an index, read-only, fetched once each."""

    def __init__(self, index: Path) -> None:
        self.conn = connect_readonly(index / read_manifest(index)["files"]["database"])
        self.cache: dict[str, str | None] = {}

    def text(self, article_id: str) -> str | None:
        if article_id not in self.cache:
            row = self.conn.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
            self.cache[article_id] = row["text"] if row else None
        return self.cache[article_id]


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def copied_run(question: str, evidence: list[str]) -> str | None:
    """The first COPY_RUN consecutive words of the question that also occur consecutively in the evidence."""
    q = words(question)
    runs = {tuple(ws[i:i + COPY_RUN]) for e in evidence for ws in [words(e)] for i in range(len(ws) - COPY_RUN + 1)}
    for i in range(len(q) - COPY_RUN + 1):
        if tuple(q[i:i + COPY_RUN]) in runs:
            return " ".join(q[i:i + COPY_RUN])
    return None


def schema_problems(item: dict[str, Any]) -> list[str]:
    """What is wrong with a row's keys and value types, before its content is checked."""
    problems = []
    missing, unknown = KEYS - set(item), set(item) - KEYS - OPTIONAL_KEYS
    if missing:
        problems.append(f"missing keys {sorted(missing)}")
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)} (allowed: {sorted(KEYS | OPTIONAL_KEYS)})")
    for key, kind in (("id", str), ("question", str), ("type", str), ("answerable", bool), ("gold", list),
                      ("facts", list), ("evidence", list), ("history", list), ("kind", str), ("split", str)):
        if key in item and not isinstance(item[key], kind):
            problems.append(f"{key!r} must be a {kind.__name__}, not {type(item[key]).__name__}")
    for key in ("gold", "facts", "evidence"):
        if isinstance(item.get(key), list) and not all(isinstance(v, str) and v.strip() for v in item[key]):
            problems.append(f"{key!r} must list non-empty strings")
    if problems:
        return problems
    if not item["id"].strip() or not item["question"].strip():
        problems.append("'id' and 'question' must not be empty")
    if item["type"] not in TYPES:
        problems.append(f"type {item['type']!r} is not one of {', '.join(TYPES)}")
    if item["split"] not in ("", *SPLITS):
        problems.append(f"split {item['split']!r} is not one of '', {', '.join(SPLITS)}")
    return problems


def unanswerable_problems(item: dict[str, Any]) -> list[str]:
    problems = []
    if item["answerable"]:
        problems.append("an unanswerable row needs \"answerable\": false")
    if item["kind"] not in KINDS:
        problems.append(f"kind {item['kind']!r} is not one of {', '.join(KINDS)}")
    for key in ("gold", "facts", "evidence", "history"):
        if item[key]:
            problems.append(f"an unanswerable row needs an empty {key!r}")
    return problems


def history_problems(history: list[Any]) -> list[str]:
    """A follow-up's history: user and assistant messages taking turns, user first, assistant last."""
    if not history:
        return ["a follow-up needs its 'history' (the conversation before the question)"]
    problems = []
    for i, message in enumerate(history):
        role = "user" if i % 2 == 0 else "assistant"
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            problems.append(f"history[{i}] must be {{\"role\": ..., \"content\": ...}}")
        elif message["role"] != role:
            problems.append(f"history[{i}] has role {message['role']!r}; expected {role!r} (turns alternate, "
                            "user first)")
        elif not isinstance(message["content"], str) or not message["content"].strip():
            problems.append(f"history[{i}] has no content")
    if len(history) % 2:
        problems.append("history must end with the assistant's answer")
    return problems


def answerable_problems(item: dict[str, Any], articles: Articles) -> list[str]:
    problems = []
    if not item["answerable"]:
        problems.append("only an 'unanswerable' row may have \"answerable\": false")
    if item["kind"]:
        problems.append("'kind' is for unanswerable rows only; leave it \"\"")
    if item["type"] == "follow-up":
        problems += history_problems(item["history"])
    elif item["history"]:
        problems.append("only a follow-up has a 'history'")
    if not item["gold"] or not item["evidence"] or not 1 <= len(item["facts"]) <= MAX_FACTS:
        problems.append(f"an answerable row needs gold ids, 1-{MAX_FACTS} facts and evidence")
    if item["type"] == "two-article" and len(set(item["gold"])) < 2:
        problems.append("a two-article row lists two gold articles")
    texts = {}
    for gold in item["gold"]:
        texts[gold] = articles.text(gold)
        if texts[gold] is None:
            problems.append(f"gold article {gold!r} is not in the index")
    texts = {k: v for k, v in texts.items() if v is not None}
    for sentence in item["evidence"]:
        if not any(sentence in text for text in texts.values()):
            problems.append(f"evidence is not verbatim in a gold article: {sentence[:80]!r}")
    for fact in item["facts"]:
        if len(fact.split()) > MAX_FACT_WORDS:
            problems.append(f"fact {fact!r} is longer than {MAX_FACT_WORDS} words")
        if not any(contains_words(text, fact, casefold=False) for text in texts.values()):
            problems.append(f"fact {fact!r} is not verbatim, as whole words, in a gold article")
        elif not any(contains_words(sentence, fact, casefold=False) for sentence in item["evidence"]):
            problems.append(f"fact {fact!r} is in no evidence sentence")
    return problems


def row_problems(item: dict[str, Any], articles: Articles) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one row."""
    errors = schema_problems(item)
    if errors:
        return errors, []
    if item["type"] == "unanswerable":
        return unanswerable_problems(item), []
    errors = answerable_problems(item, articles)
    run = copied_run(item["question"], item["evidence"])
    if run is None:
        return errors, []
    copying = f"the question copies {COPY_RUN} consecutive words from its evidence: {run!r}"
    return (errors, [copying]) if OLD_ID.fullmatch(item["id"]) else (errors + [copying], [])


def validate(paths: list[Path], index: Path) -> int:
    articles = Articles(index)
    rows, errors = read_rows(paths)
    warnings = []
    for path, number, item in rows:
        row_errors, row_warnings = row_problems(item, articles)
        errors += [f"{path}:{number}: {item.get('id', '?')}: {p}" for p in row_errors]
        warnings += [f"{path}:{number}: {item.get('id', '?')}: warning: {p}" for p in row_warnings]
    for line in sorted(warnings + errors, key=_by_file_and_line):
        print(line)
    counts = Counter(item.get("type") for _, _, item in rows)
    print(f"{len(rows)} rows ({', '.join(f'{t} {n}' for t, n in sorted(counts.items(), key=str))}); "
          f"{len(errors)} errors, {len(warnings)} warnings", file=sys.stderr)
    return 1 if errors else 0


def _by_file_and_line(line: str) -> tuple[str, int]:
    path, number, _ = (line.split(":", 2) + ["", ""])[:3]
    return path, int(number) if number.isdigit() else 0


# ---------------------------------------------------------------- split and merge


def split(items: list[dict[str, Any]], seed: int) -> None:
    """Fill empty splits in place: old rows go to tune; the rest of each type so that the type as a whole ends
    nearest TUNE_SHARE tune. Rows that have a split keep it; the same rows and seed give the same split."""
    for item in items:
        if not item.get("split") and OLD_ID.fullmatch(item["id"]):
            item["split"] = "tune"
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_type[item["type"]].append(item)
    for kind, rows in sorted(by_type.items()):
        empty = sorted((r for r in rows if not r.get("split")), key=lambda r: r["id"])
        random.Random(f"{seed}:{kind}").shuffle(empty)
        tune = round(TUNE_SHARE * len(rows)) - sum(r.get("split") == "tune" for r in rows)
        for i, row in enumerate(empty):
            row["split"] = "tune" if i < tune else "test"


def load_all(paths: list[Path]) -> list[dict[str, Any]]:
    """Every row of the files; SystemExit naming the problem when a line is unreadable or an id repeats."""
    rows, problems = read_rows(paths)
    problems += [f"{p}:{n}: no 'id' or 'type'" for p, n, item in rows if not {"id", "type"} <= set(item)]
    if problems:
        raise SystemExit("\n".join(problems))
    return [item for _, _, item in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("validate", help="check rows against the format and the index's articles")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument("--index", type=Path, default=Path("index"))
    splitting = sub.add_parser("split", help="fill empty split fields, in place")
    splitting.add_argument("file", type=Path, metavar="FILE")
    splitting.add_argument("--seed", type=int, default=0)
    merging = sub.add_parser("merge", help="concatenate question sets into OUT (which may be one of them)")
    merging.add_argument("out", type=Path, metavar="OUT")
    merging.add_argument("files", nargs="+", type=Path, metavar="IN")
    args = parser.parse_args()
    if args.command == "validate":
        return validate(args.files, args.index)
    items = load_all([args.file] if args.command == "split" else args.files)
    if args.command == "split":
        split(items, args.seed)
        counts = Counter((item["type"], item["split"]) for item in items)
        print("\n".join(f"{t}: tune {counts[t, 'tune']}, test {counts[t, 'test']}"
                        for t in sorted({item["type"] for item in items})))
    write_rows(args.file if args.command == "split" else args.out, items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
