"""The `newsqa` command line: a thin layer that parses arguments and prints what NewsQA returns."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from . import __version__
from .config import BACKENDS, DEFAULT_BACKEND, PRESETS, Settings, preset
from .ingest import parse_field_map
from .store import IndexDamaged, StoreError

DEFAULT_INDEX = "index"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        if args.run is _serve:
            _check_index(args.index)
        return args.run(args)
    except IndexDamaged as exc:
        print(f"newsqa: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"newsqa: {exc}", file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as exc:  # damage that opening the index could not see (a page in the middle)
        print(f"newsqa: the index database in {getattr(args, 'index', '?')} is damaged ({exc}); rebuild the index "
              "from your articles into a new directory (newsqa build PATH --index NEWDIR)", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("newsqa: interrupted; the index is as it was before this command", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsqa", description="Question answering over news articles.")
    parser.add_argument("--version", action="version", version=f"newsqa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    build = sub.add_parser("build", help="create or update an index from article files and folders")
    build.add_argument("paths", nargs="+", metavar="PATH",
                       help=".txt .md .html .json .jsonl .csv files, or folders of them (read recursively)")
    _index_arg(build)
    build.add_argument("--map", dest="field_map", metavar="FIELD=COLUMN,...",
                       help="column names for JSON/CSV records, e.g. text=body,published=date")
    build.add_argument("--model", help="sentence-transformers model name or path (default all-MiniLM-L6-v2)")
    build.add_argument("--preset", choices=sorted(PRESETS), default="default", help="settings preset")
    build.add_argument("--backend", choices=BACKENDS, default=None,
                       help=f"how chunks are embedded (default {DEFAULT_BACKEND}; an existing index keeps its own)")
    build.add_argument("--max-file-mb", type=float, metavar="MB",
                       help="skip files larger than this, with the reason (default 20)")
    build.add_argument("--json", action="store_true", help="print the build report as JSON")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(run=_build)

    remove = sub.add_parser("remove", help="delete articles and their vectors by id")
    remove.add_argument("ids", nargs="+", metavar="ARTICLE_ID")
    _index_arg(remove)
    remove.set_defaults(run=_remove)

    ask = sub.add_parser("ask", help="answer a question from the articles, with cited sources")
    ask.add_argument("question")
    _index_arg(ask)
    _filter_args(ask)
    _answerer_args(ask)
    ask.add_argument("--timeout", type=float, metavar="SECONDS",
                     help="how long a generative answer may take before the extractive one is given (default 60)")
    ask.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")
    ask.set_defaults(run=_ask)

    search = sub.add_parser("search", help="the passages that best match a query")
    search.add_argument("query")
    _index_arg(search)
    _filter_args(search)
    search.add_argument("--k", type=int, default=10, help="how many passages (default 10)")
    search.add_argument("--json", action="store_true", help="print the hits as JSON")
    search.set_defaults(run=_search)

    demo = sub.add_parser("demo", help="build the demo index: the sample article plus News Articles (Dai 2017)")
    _index_arg(demo)
    demo.add_argument("--small", action="store_true", help="News100 (100 articles) instead of all 3,824")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(run=_demo)

    serve = sub.add_parser("serve", help="the chat in the browser (Gradio)")
    _index_arg(serve)
    serve.add_argument("--host", default=None, help="address to bind (default $GRADIO_SERVER_NAME or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default $GRADIO_SERVER_PORT or 7860)")
    serve.add_argument("--allow-writes", action="store_true",
                       help="let uploads that carry the operator token ($NEWSQA_OPERATOR_TOKEN) add to the shared "
                            "index (default $NEWSQA_ALLOW_WRITES, else off: uploads stay in the visitor's session)")
    _answerer_args(serve)
    serve.set_defaults(run=_serve)

    info = sub.add_parser("info", help="what an index holds")
    _index_arg(info)
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(run=_info)

    evaluation = sub.add_parser("eval", help="measure retrieval or answers over an index")
    evaluation.set_defaults(run=lambda _: evaluation.print_help() or 2)
    what = evaluation.add_subparsers(dest="what", metavar="WHAT")
    retrieval = what.add_parser(
        "retrieval", help="does each headline (or subtitle) find its own article? recall@1/5/10, MRR, latency",
        description="Titles and subtitles are never indexed, so each is a query whose right answer is its article.")
    _index_arg(retrieval)
    retrieval.add_argument("--queries", metavar="FILE",
                           help='a JSON object {"title": [[query, article_id], ...], "subtitle": [...]} '
                                "(default: drawn from the demo corpus, the same as bench/queries.json)")
    retrieval.add_argument("--small", action="store_true",
                           help="queries drawn from News100, for an index built by `newsqa demo --small`")
    retrieval.add_argument("--sample", type=int, default=1000, metavar="N",
                           help="queries of each kind: a seed-0 sample of the corpus, or the first N of --queries "
                                "(default 1000)")
    retrieval.add_argument("--json", action="store_true", help="print one JSON object")
    retrieval.set_defaults(run=_eval_retrieval)
    answers = what.add_parser(
        "answers", help="key facts, citations, quotes and abstention on a question set, with the worst questions")
    _index_arg(answers)
    answers.add_argument("--questions", metavar="FILE",
                         help="JSON lines, one question a line (format: newsqa.evaluate; "
                              "default: the dev set over the demo corpus that ships with newsqa)")
    answers.add_argument("--split", choices=("tune", "test", "all"), default="all",
                         help="only the questions of this split (default: all)")
    answers.add_argument("--json", action="store_true", help="print one JSON object")
    answers.set_defaults(run=_eval_answers)
    return parser


def _index_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", default=os.environ.get("NEWSQA_INDEX", DEFAULT_INDEX), metavar="DIR",
                        help="index directory (default: $NEWSQA_INDEX or ./index)")


def _answerer_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--answerer", default=os.environ.get("NEWSQA_ANSWERER") or "extractive", metavar="SPEC",
                        help="extractive (default, or $NEWSQA_ANSWERER), transformers:<HF id or path>, "
                             "or openai:<base_url> (e.g. openai:http://localhost:11434/v1 for Ollama)")
    parser.add_argument("--model", default=os.environ.get("NEWSQA_ANSWER_MODEL"), metavar="NAME",
                        help="the model an openai: server should run (default $NEWSQA_ANSWER_MODEL)")


def _filter_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="only articles published on or after DATE")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="only articles published on or before DATE")
    parser.add_argument("--source", dest="sources", action="append", metavar="SOURCE",
                        help="only articles from SOURCE (repeatable)")


def _filters(args: argparse.Namespace) -> dict[str, object]:
    return {"date_from": args.date_from or "", "date_to": args.date_to or "", "sources": args.sources or ()}


def _ask(args: argparse.Namespace) -> int:
    from .qa import NewsQA

    settings = Settings()
    if args.timeout:
        settings = replace(settings, generation=replace(settings.generation, timeout=args.timeout))
    try:
        qa = NewsQA.open(args.index, settings=settings, answerer=args.answerer, answer_model=args.model)
        answer = qa.ask(args.question, filters=_filters(args))
    except ValueError as exc:
        print(f"newsqa ask: {exc}", file=sys.stderr)
        return 2
    if answer.notice:
        print(f"newsqa ask: {answer.notice}", file=sys.stderr)
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(answer.text)
    if answer.citations:
        print("\nSources:")
    shown: set[int] = set()
    for c in answer.citations:
        if c.number not in shown:
            shown.add(c.number)
            meta = ", ".join(x for x in (c.source, c.published) if x)
            print(f"[{c.number}] {c.title}" + (f" ({meta})" if meta else ""))
            if c.url:
                print(f"    {c.url}")
        print(f"    \"{c.quote}\"")
    if answer.unsupported:
        print("\nRemoved from the generated answer:")
        for u in answer.unsupported:
            print(f"    \"{u.text}\" ({u.reason})")
    return 0


def _search(args: argparse.Namespace) -> int:
    from .qa import NewsQA

    qa = NewsQA.open(args.index)
    try:
        hits = qa.search(args.query, k=args.k, filters=_filters(args))
    except ValueError as exc:
        print(f"newsqa search: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
        return 0
    for rank, h in enumerate(hits, start=1):
        meta = ", ".join(x for x in (h.source, h.published) if x)
        ranks = f"dense #{h.dense_rank or '-'}, keyword #{h.keyword_rank or '-'}"
        print(f"{rank:>2}. {h.title}" + (f" ({meta})" if meta else "") + f"  [{ranks}]")
        print(f"    {' '.join(h.text.split())[:300]}")
    if not hits:
        print("no passage matches")
    return 0


def _build(args: argparse.Namespace) -> int:
    from .qa import NewsQA

    try:
        field_map = parse_field_map(args.field_map)
        settings = preset(args.preset).with_model(args.model).with_backend(args.backend)
        settings = settings.with_max_file_mb(args.max_file_mb)
    except ValueError as exc:
        print(f"newsqa build: {exc}", file=sys.stderr)
        return 2
    report = NewsQA.build(args.paths, args.index, settings=settings, field_map=field_map,
                          progress=not args.quiet).last_report
    assert report is not None
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    if report.read == 0:
        print("newsqa build: no article could be read from the given paths", file=sys.stderr)
        return 1
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .corpora import DESCRIPTION, demo_articles
    from .qa import NewsQA

    name = "News100" if args.small else "NewsArticles"
    report = NewsQA.build(demo_articles(name), args.index, settings="compact", progress=not args.quiet,
                          description=DESCRIPTION.format(name=name)).last_report
    assert report is not None
    print(report.summary())
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .ui import launch

    launch(args.index, answerer=args.answerer, answer_model=args.model, allow_writes=args.allow_writes,
           server_name=args.host, server_port=args.port)
    return 0


def _check_index(index: str) -> None:
    """Open the index once, so that a missing or damaged one is one line and its exit code before a
    server starts (the chat's own launch reports it as a bare exit)."""
    from .store import Reader

    Reader(Path(index)).db.close()


def _remove(args: argparse.Namespace) -> int:
    from .qa import NewsQA

    qa = NewsQA.open(args.index)
    removed = qa.remove(args.ids)
    print(f"removed {removed} of {len(set(args.ids))} articles; index now holds {qa.info()['articles']} articles")
    return 0 if removed else 1


def _eval_retrieval(args: argparse.Namespace) -> int:
    from .evaluate_retrieval import (TABLE_HEAD, corpus_queries, evaluate_all, first, load_queries, newsqa_search,
                                     unindexed_gold)
    from .qa import NewsQA

    corpus = "News100" if args.small else "NewsArticles"
    source = args.queries or f"{corpus}, seed-0 sample of {args.sample}"
    try:
        if args.sample < 1:
            raise ValueError(f"--sample must be at least 1, not {args.sample}")
        queries = first(load_queries(args.queries), args.sample) if args.queries else None
        qa = NewsQA.open(args.index)  # before the seconds that reading the corpus takes
        queries = queries or corpus_queries(corpus, args.sample)
        missing = unindexed_gold(qa, queries)
    except ValueError as exc:
        print(f"newsqa eval retrieval: {exc}", file=sys.stderr)
        return 2
    if missing:
        print(f"newsqa eval retrieval: gold articles not in {args.index}, counted as misses: {', '.join(missing)} "
              "(a build skips an article whose text duplicates another's)", file=sys.stderr)
    results = evaluate_all(newsqa_search(qa), queries, progress=True)
    if args.json:
        print(json.dumps({"index": str(args.index), "queries": source, "unindexed_gold": missing,
                          "results": [r.to_dict() for r in results]}, indent=2, ensure_ascii=False))
        return 0
    print(f"index {args.index} ({qa.info()['articles']} articles); queries: {source}\n\n{TABLE_HEAD}")
    print("\n".join(r.row("newsqa") for r in results))
    return 0


def _eval_answers(args: argparse.Namespace) -> int:
    from .evaluate import DEVSET, load_questions, report, run, select, to_json
    from .qa import NewsQA

    path = args.questions or DEVSET
    try:
        questions = select(load_questions(path), args.split)
    except ValueError as exc:
        print(f"newsqa eval answers: {exc}", file=sys.stderr)
        return 2
    if not questions:
        print(f"newsqa eval answers: no {args.split!r} questions in {path} (fill the split field with "
              "scripts/devset.py split)", file=sys.stderr)
        return 2
    outcomes = run(NewsQA.open(args.index), questions, progress=True)
    if args.json:
        print(json.dumps({"index": str(args.index), "questions": str(path), "split": args.split,
                          **to_json(outcomes)}, indent=2, ensure_ascii=False))
        return 0
    print(f"index {args.index}; questions {path} (split {args.split}, {len(questions)})\n\n{report(outcomes)}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from .qa import NewsQA

    info = NewsQA.open(args.index).info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    first, last = info["date_range"]
    print(f"index     {info['index']}\n"
          f"articles  {info['articles']}\n"
          f"chunks    {info['chunks']}\n"
          f"sources   {info['sources']}\n"
          f"dates     {first or '?'} to {last or '?'}\n"
          f"model     {info['model']} ({info['dimension']}-d, {info['backend']}, FAISS {info['faiss']})\n"
          f"size      {info['bytes'] / 1e6:.1f} MB\n"
          f"built     {info['built_at']}" + (f"\nholds     {info['description']}" if info["description"] else ""))
    for outlet in info["outlets"]:
        print(f"outlet    {outlet['outlet'] or '(unknown)'}: {outlet['articles']} articles, "
              f"{outlet['oldest'] or '?'} to {outlet['newest'] or '?'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
