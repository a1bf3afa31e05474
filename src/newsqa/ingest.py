"""Loaders: files and folders in, normalized `Article`s and reported `Problem`s out.

Every loader turns its input into plain records (dicts with text, title, ...)
and `make_article` turns a record into an Article, so the rules for ids,
titles, sources and dates live in one place. Nothing here raises on bad
input: a file or record that cannot be used becomes a Problem and is skipped.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import errno
import io
import itertools
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import yaml
from dateutil import parser as dateparser

from .clean import clean_text
from .normalize import _PARAGRAPH_BREAK, BLOCK_CHARS, decode, normalize_field, normalize_text, text_hash
from .types import Article, Problem

FIELDS = ("id", "title", "source", "url", "published", "text")
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
RECORD_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv")
SUPPORTED = TEXT_SUFFIXES + HTML_SUFFIXES + RECORD_SUFFIXES
_TITLE_LINE_MAX = 200  # a first line longer than this is body text, not a headline
# A title made from a .txt's first sentence: the sample article's was 147 characters, three lines on a card.
_DERIVED_TITLE_MAX = 80
# Longest kept value of each metadata field, in characters; the article text is bounded by the file size limit.
# A title past a few hundred characters is body text or an attack (a 5 MB title was stored whole).
FIELD_LIMITS = {"id": 200, "title": 300, "source": 200, "url": 2000, "published": 100}
# Front matter is a handful of key: value lines; past this it is not metadata.
FRONT_MATTER_MAX = 64 * 1024
DEFAULT_MAX_FILE_BYTES = 20_000_000  # IngestSettings.max_file_mb's default, for callers without settings
# A text file larger than this is read a block at a time and stored as several articles (parts) of about
# PART_CHARS, each cut at a paragraph break: held and written whole, a 50 MB file took 1.69 GB at the peak,
# most of it while SQLite indexed the one 50 MB row for keyword search (bench/memory.py).
LARGE_TEXT_BYTES = 2_000_000
PART_CHARS = BLOCK_CHARS
_READ_BYTES = 1 << 20  # bytes read at a time from a large file
_SURROGATES = re.compile("[\ud800-\udfff]")  # lone halves (JSON "\\ud800"): SQLite and the tokenizer refuse them
_LOOP = "a symlink loop (the link leads back to itself); fix or remove the link"
_FILE_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}
_ISO_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")


class SkipRecord(ValueError):
    """A record that cannot become an article; its message is the reason."""


class SkipFile(ValueError):
    """A file that is not read at all (too large, not a regular file); its message is the reason."""


@dataclass
class IngestResult:
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    read_paths: set[str] = field(default_factory=set)  # absolute paths of files read to the end
    notes: list[Problem] = field(default_factory=list)  # kept with a change: a clipped title, a dropped date
    urls: int = 0  # URLs given (web.py reads them)
    not_modified: int = 0  # of the URLs and the pages of their feeds, those unchanged since the last fetch
    fetch_state: list = field(default_factory=list)  # store.FetchState of each URL fetched whole, to remember


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


def load_paths(paths: Iterable[str | os.PathLike[str]], field_map: dict[str, str] | None = None,
               max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> IngestResult:
    """Read files and folders (recursively, hidden entries skipped) into articles.

    Only regular files of at most `max_file_bytes` are read; anything else is a Problem."""
    result = IngestResult()
    for path in _walk(paths, result):
        result.files += 1
        absolute = display_path(os.path.abspath(path))  # rebuilds from another working directory still match
        shown = display_path(path)
        before = (len(result.articles), len(result.problems))
        try:
            if _kind(path) == "text" and os.stat(path).st_size > LARGE_TEXT_BYTES:
                records = _load_large_text(path, max_file_bytes)
            else:  # no name for the bytes here: a loader that has decoded them can let them go
                records = _LOADERS[_kind(path)](path, read_regular_file(path, max_file_bytes), field_map or {}, result)
            for line, record in records:
                origin = absolute if line is None else f"{absolute}:{line}"
                notes: list[str] = []
                try:
                    result.articles.append(make_article(record, origin=origin, notes=notes))
                except SkipRecord as exc:
                    result.problems.append(Problem(shown, str(exc), line))
                result.notes += [Problem(shown, note, line) for note in notes]
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the others; its reason is reported
            result.problems.append(Problem(shown, _reason(exc)))  # records read before this are kept
        else:
            result.read_paths.add(absolute)
            if (len(result.articles), len(result.problems)) == before:
                result.problems.append(Problem(shown, "no articles in the file"))
    return result


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as text that can be stored and printed: bytes that are not UTF-8 (which the OS hands
    over as lone surrogates) become `\\xNN` escapes, from which the name can be rebuilt."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. Opened without blocking, so a FIFO
    cannot hang the build, and checked after opening, so a file swapped in meanwhile is caught too."""
    with open_regular_file(path, limit) as file:
        data = file.read(limit + 1)  # a file that grew since fstat still stops at the limit
    if len(data) > limit:
        raise SkipFile(_too_large(len(data), limit))
    return data


def open_regular_file(path: Path, limit: int) -> BinaryIO:
    """A regular file of at most `limit` bytes, open for reading (see read_regular_file)."""
    _check_regular(os.stat(path), limit)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    file = open(fd, "rb")  # noqa: SIM115 - the caller closes it
    try:
        _check_regular(os.fstat(fd), limit)
    except BaseException:
        file.close()
        raise
    return file


def _check_regular(st: os.stat_result, limit: int) -> None:
    kind = stat.S_IFMT(st.st_mode)
    if kind != stat.S_IFREG:
        raise SkipFile(f"cannot read the file (it is {_FILE_KINDS.get(kind, 'a special file')}, not a regular file)")
    if st.st_size > limit:
        raise SkipFile(_too_large(st.st_size, limit))


def _too_large(size: int, limit: int) -> str:
    return (f"file is {size / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit per file; split it, or raise "
            f"the limit with --max-file-mb {size // 1_000_000 + 1}")


def make_article(record: dict[str, object], origin: str = "", notes: list[str] | None = None) -> Article:
    """The one place that decides an article's id, title, source and date.

    What had to change to be kept (a clipped title, a date that is no date) is added to `notes`."""
    notes = [] if notes is None else notes
    record = bounded(record, notes)
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
    published = parse_date(record.get("published"))
    if not published and record.get("published") not in (None, ""):
        notes.append(f"published {_shown(record['published'])} is not a date; kept the article without one")
    return Article(text=text, id=article_id, title=title, source=source, url=url,
                   published=published, origin=_SURROGATES.sub("\ufffd", origin))


def bounded(record: dict[str, object], notes: list[str]) -> dict[str, object]:
    """`record` with every field within FIELD_LIMITS (each cut reported in `notes`) and no lone
    surrogates. An id too long keeps its start and a hash of the whole, so it stays unique; a URL
    or date too long is dropped, as a part of one is wrong."""
    out = dict(record)
    for name, value in record.items():
        if isinstance(value, str) and _SURROGATES.search(value):  # searched first: sub copies even a clean text
            out[name] = value = _SURROGATES.sub("\ufffd", value)
        limit = FIELD_LIMITS.get(name)
        if limit is None or value is None:
            continue
        value = value if isinstance(value, str) else _SURROGATES.sub("\ufffd", str(value))
        if len(value) <= limit:
            continue
        if name == "id":
            out[name] = value[:limit - 17] + "-" + text_hash(value)[:16]
        elif name == "title":
            out[name] = value[:limit]
        else:
            out[name] = None
        kept = {"id": "shortened it to its start and a hash", "title": f"kept the first {limit}"}.get(
            name, "dropped it")
        notes.append(f"{name} is {len(value):,} characters, over the limit of {limit}; {kept}")
    return out


def _shown(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:40] + "...")


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
            yield from _walk_folder(path, result)
        elif path.exists():
            yield from _check_kind(path, result)
        else:
            result.problems.append(Problem(display_path(path), _missing(path)))


def _walk_folder(folder: Path, result: IngestResult) -> Iterator[Path]:
    def unreadable(exc: OSError) -> None:
        result.problems.append(Problem(display_path(exc.filename or folder), _reason(exc)))

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        for name in [d for d in dirs if not d.startswith(".") and os.path.islink(os.path.join(root, d))]:
            result.problems.append(Problem(display_path(os.path.join(root, name)),
                                           "a link to a folder, not followed; give the folder itself"))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(root, d)))
        for name in sorted(files):
            if not name.startswith("."):
                yield from _check_kind(Path(root) / name, result)


def _missing(path: Path) -> str:
    """Why a path that does not exist as a file or folder cannot be read."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _LOOP
    return "no such file or directory"


def _check_kind(path: Path, result: IngestResult) -> Iterator[Path]:
    try:
        os.stat(path)
    except OSError as exc:
        result.problems.append(Problem(display_path(path), _reason(exc)))
        return
    if path.suffix.lower() in SUPPORTED:
        yield path
    else:
        result.problems.append(Problem(display_path(path), (
            f"unsupported file type {path.suffix or '(none)'!r}; newsqa reads {' '.join(SUPPORTED)}")))


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in HTML_SUFFIXES:
        return "html"
    return {".json": "json", ".csv": "csv"}.get(suffix, "jsonl")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SkipFile):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"cannot decode the file as text ({exc.reason}); save it as UTF-8"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})"
    if isinstance(exc, yaml.YAMLError):
        return f"front matter is not valid YAML ({str(exc).splitlines()[0]}); fix it or remove it"
    if isinstance(exc, OSError):
        if exc.errno == errno.ELOOP:
            return _LOOP
        return f"cannot read the file ({exc.strerror or exc})"
    if isinstance(exc, RecursionError):
        return "the document is nested too deeply to read"
    if isinstance(exc, (ValueError, csv.Error)):
        return str(exc)
    return f"cannot read the file ({type(exc).__name__}: {str(exc)[:200]})"  # a loader's own failure, not the run's


Records = Iterator[tuple[int | None, dict[str, object]]]


# ---------------------------------------------------------------- text and markdown

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_MD_HEADING = re.compile(r"^#{1,6}\s+", re.M)
# Each pattern looks at most MD_SPAN_MAX characters ahead, never past a line or another opener: unbounded, a
# line of openers without closers ("[" x 100k, "__x " x 100k) took quadratic time.
MD_SPAN_MAX = 300
_MD_IMAGE = re.compile(r"!\[([^\[\]\n]{0,%d})\]\([^()\n]{0,%d}\)" % (MD_SPAN_MAX, MD_SPAN_MAX * 4))  # noqa: UP031
_MD_LINK = re.compile(r"\[([^\[\]\n]{1,%d})\]\([^()\n]{0,%d}\)" % (MD_SPAN_MAX, MD_SPAN_MAX * 4))  # noqa: UP031
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)((?:(?!\1).){1,%d}?)(?<=\S)\1" % MD_SPAN_MAX)  # noqa: UP031


def _load_text(path: Path, data: bytes, field_map: dict[str, str], result: IngestResult) -> Records:
    raw = decode(data)
    del data  # the text alone is kept, and each step below replaces it: a 50 MB file held 9 copies at once
    yield None, _text_record(path, raw)


def _text_record(path: Path, raw: str) -> dict[str, object]:
    """The record of a text or Markdown file's text: front matter, Markdown stripped, headline as title."""
    meta: dict[str, object] = {}
    match = _FRONT_MATTER.match(raw.lstrip("\ufeff"))
    if match:
        if match.end() > FRONT_MATTER_MAX:
            raise ValueError(f"front matter is over {FRONT_MATTER_MAX // 1024} KB; keep it to title, source, url, "
                             "published")
        loaded = yaml.load(match.group(1) or "", Loader=_FrontMatterLoader) or {}
        if not isinstance(loaded, dict):
            raise ValueError("front matter must be YAML key: value pairs (title, source, url, published)")
        meta = {str(k).lower(): v for k, v in loaded.items()}
        raw = raw[match.end():]
    if path.suffix.lower() != ".txt":
        raw = _strip_markdown(raw)
    record: dict[str, object] = {key: meta.get(key) for key in FIELDS if key != "text"}
    record["published"] = record["published"] or meta.get("date") or _date_in_name(path.name)
    raw = normalize_text(raw)
    if not record.get("title"):
        record["title"], raw = _headline(raw)
    if not record["title"]:  # no headline line: the first sentence, shortened to read as a title on a card
        record["title"] = first_sentence(raw, _DERIVED_TITLE_MAX)
    record["text"] = raw
    return record


def _load_large_text(path: Path, limit: int) -> Records:
    """A text file over LARGE_TEXT_BYTES, read a block at a time, as articles of about PART_CHARS each: the
    first part has the file's front matter and headline, and every part has its metadata and its title with
    "(part N)". A part's id is the file's id (front matter) with "-partN", else the hash of its text, so a
    file read again gives the same ids: a re-run changes nothing."""
    with open_regular_file(path, limit) as file:
        encoding = _encoding(file, limit)
        parts = _text_parts(file, encoding, limit)
        first = _text_record(path, next(parts))
        title, file_id = first["title"], first["id"]
        number = 0
        for text in itertools.chain([first.pop("text")], parts):
            if number and not text.strip():
                continue  # blank space at the end of the file
            number += 1
            record = {**first, "text": text if number == 1 or path.suffix.lower() == ".txt" else _strip_markdown(text)}
            record["title"] = f"{title} (part {number})" if title else None
            record["id"] = f"{file_id}-part{number}" if file_id not in (None, "") else None
            yield None, record


def _encoding(file: BinaryIO, limit: int) -> str:
    """The encoding `normalize.decode` would choose for the whole file, read a block at a time (and checked to
    decode to the end, so no part is given out of a file that turns out not to be text)."""
    utf16 = file.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    if not utf16 and _decodes(file, "utf-8-sig", limit):
        return "utf-8-sig"
    encoding = "utf-16" if utf16 else "cp1252"
    _decodes(file, encoding, limit, strict=True)
    return encoding


def _decodes(file: BinaryIO, encoding: str, limit: int, strict: bool = False) -> bool:
    """Whether all of `file` decodes as `encoding` (strict: raise UnicodeDecodeError if not); binary data (a NUL
    byte) is no text in any encoding but UTF-16."""
    decoder = codecs.getincrementaldecoder(encoding)()
    for block in _blocks(file, limit):
        if encoding != "utf-16" and b"\x00" in block:
            at = block.index(b"\x00")
            raise UnicodeDecodeError(encoding, block, at, at + 1, "binary data (NUL byte)")
        try:
            decoder.decode(block)
        except UnicodeDecodeError:
            if strict:
                raise
            return False
    decoder.decode(b"", final=True)
    return True


def _blocks(file: BinaryIO, limit: int) -> Iterator[bytes]:
    """The file's bytes from the start, _READ_BYTES at a time; SkipFile once past `limit` (a file that grew)."""
    file.seek(0)
    read = 0
    while block := file.read(_READ_BYTES):
        read += len(block)
        if read > limit:
            raise SkipFile(_too_large(read, limit))
        yield block


def _text_parts(file: BinaryIO, encoding: str, limit: int) -> Iterator[str]:
    """The file's text in pieces of about PART_CHARS, each ending at a paragraph break (see _part_end)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    rest = ""
    for block in _blocks(file, limit):
        parts, rest = _split_off(rest + decoder.decode(block))
        yield from parts
    parts, rest = _split_off(rest + decoder.decode(b"", final=True))
    yield from parts
    yield rest


def _split_off(text: str) -> tuple[list[str], str]:
    """The whole parts at the start of `text`, and the rest."""
    parts = []
    while cut := _part_end(text):
        parts.append(text[:cut[0]])
        text = text[cut[1]:]
    return parts, text


def _part_end(text: str) -> tuple[int, int] | None:
    """Where a part of `text` ends and the next begins: at the first paragraph break past PART_CHARS; with none
    in twice that, at the last line break, else space, before it (text without paragraphs stays bounded)."""
    found = _PARAGRAPH_BREAK.search(text, PART_CHARS) if len(text) > PART_CHARS else None
    if found:
        return found.start(), found.end()
    if len(text) < 2 * PART_CHARS:
        return None
    cut = text.rfind("\n", PART_CHARS, 2 * PART_CHARS)
    cut = cut if cut > 0 else text.rfind(" ", PART_CHARS, 2 * PART_CHARS)
    return (cut, cut + 1) if cut > 0 else (2 * PART_CHARS, 2 * PART_CHARS)


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML without aliases (`*name`): 600 bytes of aliases nested 9 deep expand to gigabytes (a title
    made of them took a build to 14 GB). Dates stay text, for `parse_date`: YAML's own date reading
    raised on 2017-13-45 and lost the whole file."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ValueError(f"front matter uses the YAML alias *{event.anchor} (line {event.start_mark.line + 1}); "
                             "aliases are not read: write the value out")
        return super().compose_node(parent, index)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


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


def _load_html(path: Path, data: bytes, field_map: dict[str, str], result: IngestResult) -> Records:
    yield None, extract_page(decode(data))


def extract_page(html: str, url: str | None = None) -> dict[str, object]:
    """A web page's article as a record: text, title, date, canonical URL and site name (trafilatura).
    `url` is where the page was fetched from, for a page that names no canonical URL of its own."""
    import trafilatura  # imported on first HTML page: it is slow to import

    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None or not (doc.text or "").strip():
        raise ValueError("no article text found in the page")
    address = doc.url or url or ""
    site = doc.sitename or ""
    if not site or site.lower() == urlsplit(address).netloc.lower():  # trafilatura's stand-in: host and port
        site = domain(address) or doc.hostname or ""
    return {"title": doc.title, "text": doc.text, "url": address, "published": doc.date, "source": site}


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


def _load_json(path: Path, data: bytes, field_map: dict[str, str], result: IngestResult) -> Records:
    data = json.loads(decode(data))
    items = data if isinstance(data, list) else [data]
    for number, item in enumerate(items, start=1):
        try:
            yield None, _remap(item, field_map)
        except SkipRecord as exc:
            result.problems.append(Problem(str(path), f"record {number}: {exc}"))


def _load_jsonl(path: Path, data: bytes, field_map: dict[str, str], result: IngestResult) -> Records:
    # Not str.splitlines: it also splits at U+2028, U+0085 and others, which valid JSON strings may hold
    for number, line in enumerate(re.split(r"\r\n|\r|\n", decode(data)), start=1):
        if not line.strip():
            continue
        try:
            yield number, _remap(json.loads(line), field_map)
        except json.JSONDecodeError as exc:
            result.problems.append(Problem(str(path), f"malformed JSON ({exc.msg}: column {exc.colno})", number))
        except (ValueError, RecursionError) as exc:  # a record without text, too deep, a number too long
            result.problems.append(Problem(str(path), _reason(exc), number))


def _load_csv(path: Path, data: bytes, field_map: dict[str, str], result: IngestResult) -> Records:
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO(decode(data), newline=""))
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


_LOADERS: dict[str, Callable[[Path, bytes, dict[str, str], IngestResult], Records]] = {
    "text": _load_text, "html": _load_html, "json": _load_json, "jsonl": _load_jsonl, "csv": _load_csv,
}
