"""The `newsqa` command line: a thin layer that parses arguments and prints what NewsQA returns."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from . import __version__
from .config import PRESETS, preset
from .ingest import parse_field_map
from .store import StoreError

DEFAULT_INDEX = "index"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except StoreError as exc:
        print(f"newsqa: {exc}", file=sys.stderr)
        return 1
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
    build.add_argument("--json", action="store_true", help="print the build report as JSON")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(run=_build)

    remove = sub.add_parser("remove", help="delete articles and their vectors by id")
    remove.add_argument("ids", nargs="+", metavar="ARTICLE_ID")
    _index_arg(remove)
    remove.set_defaults(run=_remove)

    info = sub.add_parser("info", help="what an index holds")
    _index_arg(info)
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(run=_info)
    return parser


def _index_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", default=os.environ.get("NEWSQA_INDEX", DEFAULT_INDEX), metavar="DIR",
                        help="index directory (default: $NEWSQA_INDEX or ./index)")


def _build(args: argparse.Namespace) -> int:
    from .qa import NewsQA

    try:
        field_map = parse_field_map(args.field_map)
    except ValueError as exc:
        print(f"newsqa build: {exc}", file=sys.stderr)
        return 2
    settings = preset(args.preset).with_model(args.model)
    report = NewsQA.build(args.paths, args.index, settings=settings, field_map=field_map,
                          progress=not args.quiet).last_report
    assert report is not None
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    if report.read == 0:
        print("newsqa build: no article could be read from the given paths", file=sys.stderr)
        return 1
    return 0


def _remove(args: argparse.Namespace) -> int:
    from .qa import NewsQA

    qa = NewsQA.open(args.index)
    removed = qa.remove(args.ids)
    print(f"removed {removed} of {len(set(args.ids))} articles; index now holds {qa.info()['articles']} articles")
    return 0 if removed else 1


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
          f"model     {info['model']} ({info['dimension']}-d, FAISS {info['faiss']})\n"
          f"size      {info['bytes'] / 1e6:.1f} MB\n"
          f"built     {info['built_at']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
