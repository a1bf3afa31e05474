"""Loaders: files and folders in, normalized `Article`s and reported `Problem`s out.

Every loader turns its input into plain records (dicts with text, title, ...)
and `make_article` turns a record into an Article, so the rules for ids,
titles, sources and dates live in one place. Nothing here raises on bad
input: a file or record that cannot be used becomes a Problem and is skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from dateutil import parser as dateparser

from .clean import clean_text
from .normalize import decode, normalize_field, normalize_text, text_hash
from .types import Article, Problem

FIELDS = ("id", "title", "source", "url", "published", "text")
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
RECORD_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv")
SUPPORTED = TEXT_SUFFIXES + HTML_SUFFIXES + RECORD_SUFFIXES
_TITLE_LINE_MAX = 200  # a first line longer than this is body text, not a headline
_ISO_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")


class SkipRecord(ValueError):
    """A record that cannot become an article; its message is the reason."""


@dataclass
class IngestResult:
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    read_paths: set[str] = field(default_factory=set)  # absolute paths of files read to the end


def parse_field_map(spec: str | None) -> dict[str, str]:
    """`text=body,published=date` -> {"text": "body", "published": "date"}."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        name, sep, column = part.partition("=")
        name, column = name.strip(), column.strip()
        if not sep or not column or name not in FIELDS:
            raise ValueError(f"bad --map entry {part!r}: write FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}")
        mapping[name] = column
    return mapping


def load_paths(paths: Iterable[str | os.PathLike[str]], field_map: dict[str, str] | None = None) -> IngestResult:
    """Read files and folders (recursively, hidden entries skipped) into articles."""
    result = IngestResult()
    for path in _walk(paths, result):
        result.files += 1
        absolute = os.path.abspath(path)  # rebuilds from another working directory still match
        before = (len(result.articles), len(result.problems))
        try:
            for line, record in _LOADERS[_kind(path)](path, field_map or {}, result):
                origin = absolute if line is None else f"{absolute}:{line}"
                try:
                    result.articles.append(make_article(record, origin=origin))
                except SkipRecord as exc:
                    result.problems.append(Problem(str(path), str(exc), line))
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError, csv.Error, RecursionError) as exc:
            result.problems.append(Problem(str(path), _reason(exc)))  # records read before this are kept
        else:
            result.read_paths.add(absolute)
            if (len(result.articles), len(result.problems)) == before:
                result.problems.append(Problem(str(path), "no articles in the file"))
    return result


def make_article(record: dict[str, object], origin: str = "") -> Article:
    """The one place that decides an article's id, title, source and date."""
    text = clean_text(normalize_text(str(record.get("text") or "")))  # page furniture out: clean.py
    if not text:
        raise SkipRecord("empty article text")
    title = normalize_field(record.get("title"))
    first, _, rest = text.partition("\n")
    if title and first.strip(" #") == title and rest.strip():
        text = rest.strip()  # the headline repeated as the body's first line
    if not title:
        title = first_sentence(text)
    url = normalize_field(record.get("url"))
    if url and not url.lower().startswith(("http://", "https://")):
        url = ""  # only web links are kept; anything else is not a link a reader can follow
    source = normalize_field(record.get("source")) or domain(url)
    article_id = normalize_field(record.get("id")) or text_hash(text)[:16]  # a blank id is no id
    return Article(text=text, id=article_id, title=title, source=source, url=url,
                   published=parse_date(record.get("published")), origin=origin)


def first_sentence(text: str, limit: int = _TITLE_LINE_MAX) -> str:
    from .chunking import split_sentences  # local import: chunking is heavier and only needed here

    spans = split_sentences(text[: limit * 4])
    sentence = text[spans[0].start:spans[0].end] if spans else text
    return sentence if len(sentence) <= limit else sentence[:limit].rsplit(" ", 1)[0] + "…"


def domain(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host[4:] if host.startswith("www.") else host


def parse_date(value: object) -> str:
    """ISO date from common formats; "" when unknown. Missing parts are never filled in."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text or text.isdigit() and len(text) != 4:
        return ""  # bare numbers such as timestamps are too ambiguous to read as dates
    try:
        first = dateparser.parse(text, default=dt.datetime(1901, 1, 1))
        second = dateparser.parse(text, default=dt.datetime(1902, 2, 2))
    except (ValueError, OverflowError, TypeError):
        return ""
    if first.year != second.year or not 1900 < first.year < 2200:
        return ""
    if first.month != second.month:
        return f"{first.year:04d}"
    if first.day != second.day:
        return f"{first.year:04d}-{first.month:02d}"
    return first.date().isoformat()


# ---------------------------------------------------------------- walking


def _walk(paths: Iterable[str | os.PathLike[str]], result: IngestResult) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield from _check_kind(Path(root) / name, result)
        elif path.exists():
            yield from _check_kind(path, result)
        else:
            result.problems.append(Problem(str(path), "no such file or directory"))


def _check_kind(path: Path, result: IngestResult) -> Iterator[Path]:
    if path.suffix.lower() in SUPPORTED:
        yield path
    else:
        result.problems.append(Problem(
            str(path), f"unsupported file type {path.suffix or '(none)'!r}; newsqa reads {' '.join(SUPPORTED)}"))


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in HTML_SUFFIXES:
        return "html"
    return {".json": "json", ".csv": "csv"}.get(suffix, "jsonl")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"cannot decode the file as text ({exc.reason}); save it as UTF-8"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})"
    if isinstance(exc, yaml.YAMLError):
        return f"front matter is not valid YAML ({str(exc).splitlines()[0]}); fix it or remove it"
    if isinstance(exc, OSError):
        return f"cannot read the file ({exc.strerror or exc})"
    if isinstance(exc, RecursionError):
        return "the document is nested too deeply to read"
    return str(exc)


Records = Iterator[tuple[int | None, dict[str, object]]]


# ---------------------------------------------------------------- text and markdown

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_MD_HEADING = re.compile(r"^#{1,6}\s+", re.M)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")


def _load_text(path: Path, field_map: dict[str, str], result: IngestResult) -> Records:
    raw = decode(path.read_bytes())
    meta: dict[str, object] = {}
    match = _FRONT_MATTER.match(raw.lstrip("\ufeff"))
    if match:
        loaded = yaml.safe_load(match.group(1) or "") or {}
        if not isinstance(loaded, dict):
            raise ValueError("front matter must be YAML key: value pairs (title, source, url, published)")
        meta = {str(k).lower(): v for k, v in loaded.items()}
        raw = raw[match.end():]
    if path.suffix.lower() != ".txt":
        raw = _strip_markdown(raw)
    record: dict[str, object] = {key: meta.get(key) for key in FIELDS if key != "text"}
    record["published"] = record["published"] or meta.get("date") or _date_in_name(path.name)
    body = normalize_text(raw)
    if not record.get("title"):
        record["title"], body = _headline(body)
    record["text"] = body
    yield None, record


def _strip_markdown(text: str) -> str:
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return _MD_HEADING.sub("", text)


def _headline(body: str) -> tuple[str, str]:
    """A short first line followed by more text is the headline; otherwise there is none."""
    first, sep, rest = body.partition("\n")
    if sep and rest.strip() and len(first) <= _TITLE_LINE_MAX:
        return first, rest
    return "", body


def _date_in_name(name: str) -> str:
    match = _ISO_IN_NAME.search(name)
    return match.group(1) if match else ""


# ---------------------------------------------------------------- html


def _load_html(path: Path, field_map: dict[str, str], result: IngestResult) -> Records:
    import trafilatura  # imported on first HTML file: it is slow to import

    html = decode(path.read_bytes())
    doc = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None or not (doc.text or "").strip():
        raise ValueError("no article text found in the page")
    yield None, {"title": doc.title, "text": doc.text, "url": doc.url, "published": doc.date,
                 "source": doc.sitename or doc.hostname}


# ---------------------------------------------------------------- records


def _remap(record: object, field_map: dict[str, str]) -> dict[str, object]:
    if not isinstance(record, dict):
        raise SkipRecord(f"expected an object with a 'text' field, got {type(record).__name__}")
    out = {name: record.get(field_map.get(name, name)) for name in FIELDS}
    if out["text"] is None:
        column = field_map.get("text", "text")
        raise SkipRecord(f"no {column!r} field; name the text field with --map text=FIELD")
    if not isinstance(out["text"], str):
        raise SkipRecord(f"{field_map.get('text', 'text')!r} is {type(out['text']).__name__}, not text")
    return out


def _load_json(path: Path, field_map: dict[str, str], result: IngestResult) -> Records:
    data = json.loads(decode(path.read_bytes()))
    items = data if isinstance(data, list) else [data]
    for number, item in enumerate(items, start=1):
        try:
            yield None, _remap(item, field_map)
        except SkipRecord as exc:
            result.problems.append(Problem(str(path), f"record {number}: {exc}"))


def _load_jsonl(path: Path, field_map: dict[str, str], result: IngestResult) -> Records:
    # Not str.splitlines: it also splits at U+2028, U+0085 and others, which valid JSON strings may hold
    for number, line in enumerate(re.split(r"\r\n|\r|\n", decode(path.read_bytes())), start=1):
        if not line.strip():
            continue
        try:
            yield number, _remap(json.loads(line), field_map)
        except json.JSONDecodeError as exc:
            result.problems.append(Problem(str(path), f"malformed JSON ({exc.msg}: column {exc.colno})", number))
        except (ValueError, RecursionError) as exc:  # a record without text, too deep, a number too long
            result.problems.append(Problem(str(path), _reason(exc), number))


def _load_csv(path: Path, field_map: dict[str, str], result: IngestResult) -> Records:
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO(decode(path.read_bytes()), newline=""))
    columns = reader.fieldnames or []
    text_column = field_map.get("text", "text")
    if text_column not in columns:
        shown = ", ".join(map(repr, columns[:12])) or "none"
        raise ValueError(f"no {text_column!r} column (columns: {shown}); name it with --map text=COLUMN")
    start = reader.line_num + 1  # a record's first line: line_num is its last, and a quoted text spans many
    for row in reader:
        try:
            yield start, _remap(row, field_map)
        except SkipRecord as exc:
            result.problems.append(Problem(str(path), str(exc), start))
        start = reader.line_num + 1


_LOADERS: dict[str, Callable[[Path, dict[str, str], IngestResult], Records]] = {
    "text": _load_text, "html": _load_html, "json": _load_json, "jsonl": _load_jsonl, "csv": _load_csv,
}
