"""The `newsqa` command line: a thin layer that parses arguments and prints what NewsQA returns."""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from . import __version__
from .config import BACKENDS, DEFAULT_BACKEND, PRESETS, Settings, preset
from .fetch import is_url
from .ingest import parse_date, parse_field_map
from .storage import IndexDamaged, StoreError, index_exists, is_database_url, location_of, open_reader

DEFAULT_INDEX = "index"
_COMMENT = re.compile(r"(^|\s)#.*")  # a comment in a --urls file; a URL's own #fragment has no space before it


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

    build = sub.add_parser("build", help="create or update an index from article files, folders, feeds and pages")
    build.add_argument("paths", nargs="*", metavar="PATH|URL",
                       help=".txt .md .html .json .jsonl .csv files, folders of them (read recursively), and "
                            "http(s) URLs of RSS/Atom feeds and article pages")
    build.add_argument("--urls", metavar="FILE", help="read URLs from FILE, one a line (# starts a comment)")
    _index_arg(build)
    _fetch_args(build)
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

    remove = sub.add_parser("remove", help="delete articles and their vectors by id, date or outlet")
    remove.add_argument("ids", nargs="*", metavar="ARTICLE_ID")
    remove.add_argument("--before", metavar="DATE", help="articles dated before DATE (YYYY-MM-DD): published, "
                        "else added, then")
    remove.add_argument("--source", metavar="OUTLET", help="articles from OUTLET (with --before: both must hold)")
    _index_arg(remove)
    remove.set_defaults(run=_remove)

    watch = sub.add_parser("watch", help="poll feeds into an index until stopped (Ctrl-C or SIGTERM)")
    watch.add_argument("feeds", nargs="+", metavar="FEED", help="http(s) URLs of RSS/Atom feeds (or article pages)")
    _index_arg(watch)
    watch.add_argument("--every", default="15m", metavar="INTERVAL", help="time between polls: 30s, 15m, 1h "
                       "(default 15m)")
    watch.add_argument("--keep-days", type=int, metavar="N", help="remove articles older than N days")
    watch.add_argument("--polls", type=int, default=0, metavar="N", help="stop after N polls (default: never)")
    watch.add_argument("--model", help="embedding model for a new index (default all-MiniLM-L6-v2)")
    _fetch_args(watch)
    watch.set_defaults(run=_watch)

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
    parser.add_argument("--index", default=os.environ.get("NEWSQA_INDEX", DEFAULT_INDEX), metavar="DIR|URL",
                        help="index directory, or postgresql://user@host/db[?schema=NAME] "
                             "(default: $NEWSQA_INDEX or ./index)")


def _answerer_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--answerer", default=os.environ.get("NEWSQA_ANSWERER") or "extractive", metavar="SPEC",
                        help="extractive (default, or $NEWSQA_ANSWERER), transformers:<HF id or path>, "
                             "or openai:<base_url> (e.g. openai:http://localhost:11434/v1 for Ollama)")
    parser.add_argument("--model", default=os.environ.get("NEWSQA_ANSWER_MODEL"), metavar="NAME",
                        help="the model an openai: server should run (default $NEWSQA_ANSWER_MODEL)")


def _fetch_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="how long a web server may take to connect or answer (default 10 and 20)")
    parser.add_argument("--max-page-mb", type=float, metavar="MB",
                        help="skip web pages and feeds larger than this, with the reason (default 5)")


def _fetch_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    fetch = settings.fetch
    for flag, value in (("--timeout", args.timeout), ("--max-page-mb", args.max_page_mb)):
        if value is not None and not 0 < value < float("inf"):
            raise ValueError(f"{flag} must be a positive number, not {value:g}")
    if args.timeout is not None:
        fetch = replace(fetch, connect_timeout=args.timeout, read_timeout=args.timeout)
    if args.max_page_mb is not None:
        fetch = replace(fetch, max_page_mb=args.max_page_mb)
    return replace(settings, fetch=fetch)


def read_url_list(path: str) -> list[str]:
    """The URLs of a --urls file: one a line; blank lines and # comments skipped; anything else an error."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the URL list {path} ({getattr(exc, 'strerror', None) or exc})") from None
    urls = []
    for number, line in enumerate(lines, start=1):
        line = _COMMENT.sub("", line).strip()
        if not line:
            continue
        if not is_url(line):
            raise ValueError(f"{path}:{number}: {line[:80]!r} is not an http(s) URL; write one URL a line")
        urls.append(line)
    return urls


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
        settings = _fetch_settings(settings.with_max_file_mb(args.max_file_mb), args)
        paths = args.paths + (read_url_list(args.urls) if args.urls else [])
        if not paths:
            raise ValueError("give files, folders or URLs to read (or --urls FILE)")
    except ValueError as exc:
        print(f"newsqa build: {exc}", file=sys.stderr)
        return 2
    report = NewsQA.build(paths, args.index, settings=settings, field_map=field_map,
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
    open_reader(location_of(index)).close()


def _remove(args: argparse.Namespace) -> int:
    from .qa import NewsQA

    if not (args.ids or args.before or args.source):
        print("newsqa remove: say what to remove: article ids, --before DATE or --source OUTLET", file=sys.stderr)
        return 2
    before = parse_date(args.before) if args.before else ""
    if args.before and len(before) != len("YYYY-MM-DD"):
        print(f"newsqa remove: --before {args.before!r} is not a day; write it as YYYY-MM-DD", file=sys.stderr)
        return 2
    qa = NewsQA.open(args.index)
    removed = qa.remove(args.ids, before=before, source=args.source or "")
    asked = f" of {len(set(args.ids))}" if args.ids and not (before or args.source) else ""
    print(f"removed {removed}{asked} articles; index now holds {qa.info()['articles']} articles")
    return 0 if removed else 1


def _watch(args: argparse.Namespace) -> int:
    from .qa import NewsQA
    from .watch import parse_interval, watch

    try:
        every = parse_interval(args.every)
        if args.keep_days is not None and args.keep_days < 1:
            raise ValueError(f"--keep-days must be at least 1, not {args.keep_days}")
        if args.polls < 0:
            raise ValueError(f"--polls must be 0 (poll until stopped) or more, not {args.polls}")
        bad = [feed for feed in args.feeds if not is_url(feed)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an http(s) URL; watch polls feeds on the web")
        settings = _fetch_settings(Settings().with_model(args.model), args)
    except ValueError as exc:
        print(f"newsqa watch: {exc}", file=sys.stderr)
        return 2
    if index_exists(location_of(args.index)):
        qa = NewsQA.open(args.index, settings=settings)  # the index's own model, whatever --model says
    else:
        qa = NewsQA.build([], args.index, settings=settings)  # an empty index to fill

    def log(poll) -> None:  # noqa: ANN001 - watch.Poll
        print(poll.line(), flush=True)
        for problem in poll.failures:
            print(f"  failed {problem}", file=sys.stderr, flush=True)

    try:
        polls = watch(qa, args.feeds, every, args.keep_days, args.polls, log)
    except KeyboardInterrupt:
        print("newsqa watch: stopped during a poll; the index is as the last complete poll left it", file=sys.stderr)
        return 130
    print(f"newsqa watch: stopped after {polls} polls; the index is complete", file=sys.stderr)
    return 0


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
    vectors = info["faiss"] if is_database_url(args.index) else f"FAISS {info['faiss']}"  # pgvector's names itself
    print(f"index     {info['index']}\n"
          f"articles  {info['articles']}\n"
          f"chunks    {info['chunks']}\n"
          f"sources   {info['sources']}\n"
          f"dates     {first or '?'} to {last or '?'}\n"
          f"model     {info['model']} ({info['dimension']}-d, {info['backend']}, {vectors})\n"
          f"size      {info['bytes'] / 1e6:.1f} MB\n"
          f"built     {info['built_at']}" + (f"\nholds     {info['description']}" if info["description"] else ""))
    for outlet in info["outlets"]:
        print(f"outlet    {outlet['outlet'] or '(unknown)'}: {outlet['articles']} articles, "
              f"{outlet['oldest'] or '?'} to {outlet['newest'] or '?'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
