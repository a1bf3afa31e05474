"""Loaders on realistic files and on generated junk: articles come out clean, bad input becomes a Problem."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import socket
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsqa.ingest import load_paths, make_article, parse_date, parse_field_map
from newsqa.normalize import normalize_text, text_hash
from newsqa.types import Article, Problem

DATA = Path(__file__).resolve().parent / "data" / "ingest"
_DATE = re.compile(r"(\d{4}(-\d{2}(-\d{2})?)?)?")
_URL_MAP = "id=story_id,title=headline,text=body,source=outlet,url=link,published=date"


def load_one(name: str, field_map: str | None = None):
    return load_paths([DATA / name], parse_field_map(field_map))


def by_id(articles: list[Article]) -> dict[str, Article]:
    return {a.id: a for a in articles}


def check_article(article: Article) -> None:
    """What every produced article must satisfy, whatever the input."""
    assert article.text and article.text == normalize_text(article.text)
    assert article.id and article.title
    assert "\n" not in article.title and "\n" not in article.source
    assert article.url == "" or article.url.lower().startswith(("http://", "https://"))
    assert _DATE.fullmatch(article.published), article.published


def check_problems(problems: list[Problem], path: Path) -> None:
    for problem in problems:
        assert isinstance(problem, Problem) and problem.path == str(path)
        assert problem.reason.strip() and "\n" not in problem.reason
        assert re.fullmatch(rf"{re.escape(str(path))}(:\d+)?: \S.*", str(problem)), str(problem)


# ---------------------------------------------------------------- text and markdown


def test_sample_article(sample_article: Path) -> None:
    result = load_paths([sample_article])
    assert result.problems == [] and result.files == 1
    assert result.read_paths == {str(sample_article.resolve())}
    [article] = result.articles
    check_article(article)
    # No headline line: the title is the first sentence, shortened at a word to fit a card.
    assert article.title == "The S-400 anti-aircraft missile systems (SAM), which Turkey bought from Russia,…"
    assert article.text.startswith("The S-400 anti-aircraft missile systems (SAM), which Turkey bought from Russia, "
                                   "pose a threat to the aircraft of the participating countries NATO. This was "
                                   "announced on Tuesday, December 29,")
    assert article.published == "2020-12-29"  # from the ISO date in the file name
    assert article.source == "" and article.url == ""
    assert article.id == text_hash(article.text)[:16]
    assert article.origin == str(sample_article.resolve())
    assert "Russian S-400. Restrictive measures" in article.text and "S- 400" not in article.text


def test_ids_are_stable_across_runs_and_working_directories(sample_article: Path, monkeypatch) -> None:
    first = load_paths([sample_article]).articles[0]
    monkeypatch.chdir(sample_article.parent)
    again = load_paths([sample_article.name]).articles[0]
    assert again.id == first.id and again.origin == first.origin


def test_markdown_with_front_matter() -> None:
    result = load_one("front-matter.md")
    assert result.problems == []
    [article] = result.articles
    check_article(article)
    assert article.title == "Council approves new bike lanes"
    assert article.source == "City Gazette"
    assert article.url == "https://www.citygazette.example/2019/06/bike-lanes"
    assert article.published == "2019-06-12"
    # the repeated headline, the markup and the link target are gone; the words stay
    assert article.text == ("The city council voted seven to two on Wednesday to build protected bike lanes on "
                            "three central streets.\n\nWork will start in September and should finish by the end "
                            "of next year, the transport department said.")


@pytest.mark.parametrize(("name", "body", "title", "text"), [
    ("short-first-line.txt", "Ferry fares rise\nThe island ferry will cost more from May.\n",
     "Ferry fares rise", "The island ferry will cost more from May."),
    ("heading.md", "# Ferry fares rise\n\nThe island ferry will cost **more** from May.\n",
     "Ferry fares rise", "The island ferry will cost more from May."),
    ("one-line.txt", "The island ferry will cost more from May. Fares rise by a tenth.",
     "The island ferry will cost more from May.", "The island ferry will cost more from May. Fares rise by a tenth."),
    ("long-first-line.txt", "The island ferry will cost more from May. " + "Fares rise by a tenth. " * 12 + "\nMore.",
     "The island ferry will cost more from May.", None),
])
def test_title_without_front_matter(tmp_path: Path, name: str, body: str, title: str, text: str | None) -> None:
    (tmp_path / name).write_text(body, encoding="utf-8")
    [article] = load_paths([tmp_path / name]).articles
    assert article.title == title
    assert article.text == (text or normalize_text(body))
    assert article.published == ""  # no date in the name: none invented


def test_front_matter_date_wins_over_file_name(tmp_path: Path) -> None:
    path = tmp_path / "story-2020-01-01.md"
    path.write_text("---\ntitle: T\npublished: 15 March 2017\n---\nBody text.\n", encoding="utf-8")
    assert load_paths([path]).articles[0].published == "2017-03-15"


def test_bad_front_matter_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: [unclosed\n---\nBody.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("---\n- just\n- a list\n---\nBody.\n", encoding="utf-8")
    (tmp_path / "c.md").write_text("Fine article.\n", encoding="utf-8")
    result = load_paths([tmp_path])
    assert [a.text for a in result.articles] == ["Fine article."]
    assert [(Path(p.path).name, p.reason.split(" (")[0]) for p in result.problems] == [
        ("a.md", "front matter is not valid YAML"),
        ("b.md", "front matter must be YAML key: value pairs"),
    ]


def test_cp1252_file_with_curly_quotes_decodes() -> None:
    result = load_one("cp1252-curly-quotes.txt")
    assert result.problems == []
    [article] = result.articles
    check_article(article)
    assert article.title == "Caf\u00e9 owners fear winter \u2014 and the \u20ac2 tax"
    # normalize_text straightens quotes (ftfy); what matters is that nothing was lost or garbled
    assert article.text.startswith("\"We can't raise prices again,\" said Ren\u00e9e Dupont, who runs a caf\u00e9")
    assert "The council's new levy adds \u20ac2 to every outdoor table" in article.text
    assert not re.search("[\u00c2\u00c3\u00e2\u0080-\u009f\ufffd]", article.text + article.title)  # no mojibake


def test_utf16_file_with_bom() -> None:
    [article] = load_one("utf16-bom.txt").articles
    assert article.title == "Ferry timetable changes"
    assert article.text == "The island ferry will run every \u00bd hour in summer, the operator said."


@pytest.mark.parametrize(("name", "reason"), [
    ("binary.txt", "cannot decode the file as text (binary data (NUL byte)); save it as UTF-8"),
    ("bad-encoding.txt", "cannot decode the file as text (character maps to <undefined>); save it as UTF-8"),
    ("empty.txt", "empty article text"),
    ("blank.md", "empty article text"),
    ("notes.docx", "unsupported file type '.docx'; newsqa reads .txt .md .markdown .html .htm .json .jsonl "
                   ".ndjson .csv"),
])
def test_unusable_file_is_one_problem(name: str, reason: str) -> None:
    result = load_one(name)
    assert result.articles == []
    assert [str(p) for p in result.problems] == [f"{DATA / name}: {reason}"]


def test_missing_and_unreadable_paths(tmp_path: Path) -> None:
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    short = Path(tempfile.mkdtemp(dir="/tmp"))  # a socket path must be short
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(short / "live.txt"))  # exists, is no directory, and cannot be opened, even by root
        result = load_paths([tmp_path / "nope.md", tmp_path / "dangling.txt", short / "live.txt",
                             DATA / "front-matter.md"])
    finally:
        sock.close()
        (short / "live.txt").unlink()
        short.rmdir()
    assert [a.title for a in result.articles] == ["Council approves new bike lanes"]
    assert [str(p) for p in result.problems[:2]] == [
        f"{tmp_path / 'nope.md'}: no such file or directory", f"{tmp_path / 'dangling.txt'}: no such file or directory"]
    assert str(result.problems[2]).startswith(f"{short / 'live.txt'}: cannot read the file (")
    assert len(result.problems) == 3


def test_folder_skips_hidden_entries_and_keeps_going(tmp_path: Path) -> None:
    (tmp_path / ".hidden.txt").write_text("Hidden draft.", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("Not an article.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_bytes(b"\x00\x01")
    (tmp_path / "sub" / "c.txt").write_text("Third article.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("First article.", encoding="utf-8")
    result = load_paths([tmp_path])
    assert [a.text for a in result.articles] == ["First article.", "Third article."]
    assert [Path(p.path).name for p in result.problems] == ["b.txt"]
    assert result.files == 3


def test_whole_data_folder_never_raises() -> None:
    result = load_paths([DATA], parse_field_map(_URL_MAP))
    for article in result.articles:
        check_article(article)
    assert {Path(p.path).name for p in result.problems} >= {
        "binary.txt", "bad-encoding.txt", "empty.txt", "blank.md", "notes.docx", "articles.jsonl"}


# ---------------------------------------------------------------- html


def test_html_news_page() -> None:
    result = load_one("news-page.html")
    assert result.problems == []
    [article] = result.articles
    check_article(article)
    assert article.title == "Harbour reopens after storm repairs"
    assert article.published == "2021-03-04"
    assert article.source == "Coastal Herald"
    assert article.url == "https://www.coastalherald.example/news/harbour-reopens"
    assert article.text.startswith("The town harbour reopened to fishing boats on Thursday")
    assert '"We built it for the next fifty years, not the last fifty," he said.' in article.text
    assert article.text.endswith("extend the wall along the northern beach.")
    for marker in ("NAV_MARKER", "COOKIE_BANNER_MARKER", "FOOTER_MARKER", "TRACKING_SCRIPT_MARKER",
                   "INLINE_SCRIPT_MARKER", "RELATED_MARKER", "Privacy policy", "Accept all cookies", "Politics"):
        assert marker not in article.text


def test_html_without_text_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_text("<html><head><script>var x = 1;</script></head><body><img src='a.png'></body>"
                                         "</html>", encoding="utf-8")
    result = load_paths([tmp_path / "empty.html"])
    assert result.articles == []
    assert [str(p) for p in result.problems] == [f"{tmp_path / 'empty.html'}: no article text found in the page"]


# ---------------------------------------------------------------- records


def test_jsonl_with_malformed_line_and_record_without_text() -> None:
    path = DATA / "articles.jsonl"
    result = load_one("articles.jsonl")
    assert [str(p) for p in result.problems] == [
        f"{path}:3: malformed JSON (Unterminated string starting at: column 54)",
        f"{path}:4: no 'text' field; name the text field with --map text=FIELD",
    ]
    assert [(p.line, p.path) for p in result.problems] == [(3, str(path)), (4, str(path))]
    for article in result.articles:
        check_article(article)
    articles = by_id(result.articles)
    assert list(articles) == ["wire-001", "wire-002", "wire-005"]
    assert [a.origin for a in result.articles] == [f"{path}:1", f"{path}:2", f"{path}:6"]
    assert articles["wire-001"].source == "Wire Service" and articles["wire-001"].published == "2022-05-04"
    assert articles["wire-002"].source == "railnews.example"  # the URL's domain without www.
    assert articles["wire-002"].published == "2022-05-05"
    wire5 = articles["wire-005"]
    assert wire5.url == "" and wire5.source == ""  # an ftp:// link is not kept
    assert wire5.title == wire5.text == ("Port workers unloaded a record number of containers in April, "
                                         "the port authority said.")
    assert wire5.published == "2022-05-06"


def test_jsonl_line_with_unicode_line_separators_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "seps.jsonl"
    lines = [json.dumps({"id": "a", "text": "One\u2028two\x85three\x1cfour."}, ensure_ascii=False),
             json.dumps({"id": "b", "text": "Next record."})]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    result = load_paths([path])
    assert result.problems == []
    assert [(a.id, a.origin) for a in result.articles] == [("a", f"{path}:1"), ("b", f"{path}:2")]


def test_json_list() -> None:
    path = DATA / "articles.json"
    result = load_one("articles.json")
    assert result.problems == []
    library, museum = result.articles
    for article in result.articles:
        check_article(article)
        assert article.origin == str(path)
    assert library.id == text_hash(library.text)[:16] and library.title == "Library extends opening hours"
    assert library.source == "Town Crier" and library.published == "2018-09-01" and library.url == ""
    assert museum.id == "42" and museum.source == "example.com" and museum.url == "https://www.example.com/museum"
    assert museum.published == "2017-03"  # "March 2017": no day invented


def test_json_problems(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('[{"text": "a"},', encoding="utf-8")
    (tmp_path / "mixed.json").write_text('[{"text": "Kept."}, 7, {"text": 3}, {"title": "x"}, {"text": " "}]',
                                         encoding="utf-8")
    (tmp_path / "single.json").write_text('{"text": "One object is one article."}', encoding="utf-8")
    result = load_paths([tmp_path])
    assert [a.text for a in result.articles] == ["Kept.", "One object is one article."]
    assert [str(p) for p in result.problems] == [
        f"{tmp_path / 'broken.json'}: not valid JSON (Expecting value: line 1 column 16)",
        f"{tmp_path / 'mixed.json'}: record 2: expected an object with a 'text' field, got int",
        f"{tmp_path / 'mixed.json'}: record 3: 'text' is int, not text",
        f"{tmp_path / 'mixed.json'}: record 4: no 'text' field; name the text field with --map text=FIELD",
        f"{tmp_path / 'mixed.json'}: empty article text",
    ]


def test_csv_with_field_map() -> None:
    path = DATA / "other-columns.csv"
    result = load_one("other-columns.csv", _URL_MAP)
    assert [str(p) for p in result.problems] == [f"{path}:7: empty article text"]
    for article in result.articles:
        check_article(article)
    bridge, school, flood = result.articles
    assert (bridge.id, bridge.title, bridge.source, bridge.url, bridge.published) == (
        "csv-1", "Bridge closes for repairs", "Daily Bugle", "https://www.dailybugle.example/bridge", "2017-03-15")
    assert school.source == "news.example.org" and school.published == "2017-02-07"
    assert school.text.endswith('with "real" field data.')
    assert flood.text == ("The river level fell overnight.\n\n"
                          "Residents were allowed back into their homes on Sunday morning.")
    assert flood.published == "2017-03-05"
    # origins point at the line where each record starts, also after a record that spans lines
    assert [a.origin for a in result.articles] == [f"{path}:2", f"{path}:3", f"{path}:4"]


def test_csv_without_text_column() -> None:
    path = DATA / "no-text-column.csv"
    result = load_one("no-text-column.csv")
    assert result.articles == []
    assert [str(p) for p in result.problems] == [
        f"{path}: no 'text' column (columns: 'headline', 'body', 'date'); name it with --map text=COLUMN"]
    assert load_one("no-text-column.csv", "text=body,title=headline,published=date").articles[0].title == "A headline"


@pytest.mark.parametrize("spec", ["text", "body=text", "text=", "=body"])
def test_bad_field_map(spec: str) -> None:
    with pytest.raises(ValueError, match="bad --map entry"):
        parse_field_map(spec)


def test_field_map_parses() -> None:
    assert parse_field_map("text=body, published=date ,") == {"text": "body", "published": "date"}
    assert parse_field_map(None) == parse_field_map("") == {}


# ---------------------------------------------------------------- make_article and dates


@pytest.mark.parametrize(("value", "expected"), [
    ("2017/2/7", "2017-02-07"),
    ("15 March 2017", "2017-03-15"),
    ("March 15, 2017", "2017-03-15"),
    ("March 2017", "2017-03"),
    ("2017", "2017"),
    ("2020-12-14T10:00:00Z", "2020-12-14"),
    ("Mon, 14 Dec 2020 10:00:00 +0000", "2020-12-14"),
    ("garbage", ""),
    ("", ""),
    (None, ""),
    ("March", ""),
    ("Tuesday", ""),
    (1490000000, ""),
    ("1490000000", ""),
    ("1066-10-14", ""),
])
def test_parse_date(value: object, expected: str) -> None:
    assert parse_date(value) == expected


def test_parse_date_takes_date_objects() -> None:
    import datetime as dt

    assert parse_date(dt.date(2019, 6, 12)) == "2019-06-12"
    assert parse_date(dt.datetime(2019, 6, 12, 23, 59)) == "2019-06-12"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.integers(), st.floats(), st.dates().map(str), st.datetimes().map(str)))
def test_parse_date_never_raises_and_never_invents(value: object) -> None:
    assert _DATE.fullmatch(parse_date(value))


@pytest.mark.parametrize("record_id", [None, "", "   ", "\u200b"])
def test_blank_id_falls_back_to_text_hash(record_id: object) -> None:
    article = make_article({"id": record_id, "text": "Some  text ."})
    assert article.text == "Some text." and article.id == text_hash("Some text.")[:16]


def test_make_article_rules() -> None:
    article = make_article({"id": 0, "title": "Headline", "text": "# Headline\nBody.", "url": "javascript:alert(1)",
                            "published": "2021-02-30"})
    assert (article.id, article.title, article.text, article.url, article.published) == ("0", "Headline", "Body.", "",
                                                                                         "")
    long = make_article({"text": "word " * 100})
    assert long.title.endswith("\u2026") and len(long.title) <= 201


# ---------------------------------------------------------------- generated files

_SUFFIXES = [".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".csv"]
_CONTROL = st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp"])
_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"]
_MARKUP_PIECES = st.sampled_from([
    "<p>", "</p>", "<html>", "<body>", "</body>", "<nav>Home | News</nav>", "<script>alert('x')</script>",
    "<style>p{}</style>", "<footer>(c) 2021</footer>", "<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&#0;",
    "&#xD800;", "&nbsp;", "<meta charset='utf-16'>", "<title>", "</title>", "<h1>", "<div class='cookie'>",
    "<time datetime='2020-02-30'>", "---\n", "title: x\n", "\n", "  ", "\ufeff", "\u202e", "\x00", "\x1b[31m",
])

_texts = st.text(st.one_of(st.characters(codec="utf-8"), _CONTROL))
_random_bytes = st.binary(max_size=3000)
_encoded = st.builds(lambda text, enc: text.encode(enc, errors="replace"), _texts, st.sampled_from(_ENCODINGS))
_markup = st.lists(st.one_of(_MARKUP_PIECES, st.text(max_size=40)), max_size=60).map(lambda p: "".join(p).encode())
_huge_line = st.builds(lambda word, n: ((word or "x") + " ") * n, st.text(max_size=12), st.integers(2000, 20000)
                       ).map(str.encode)
_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30))
_json = st.recursive(_json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c,
                                                                                          max_size=4), max_leaves=12)
_records = st.fixed_dictionaries({}, optional={
    "text": st.one_of(st.text(), _json), "id": _json_scalars, "title": st.one_of(st.text(max_size=80), _json),
    "source": st.text(max_size=20),
    "url": st.one_of(st.text(max_size=30), st.sampled_from(["https://www.x.example/a", "ftp://x", "javascript:x"])),
    "published": st.one_of(_json_scalars, st.sampled_from(["2017/2/7", "March 2017", "2020-12-14T10:00:00Z"])),
})
_json_files = st.one_of(st.lists(_records, max_size=6), _json).map(lambda v: json.dumps(v).encode())


def _load_bytes(suffix: str, data: bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"generated{suffix}"
        path.write_bytes(data)
        result = load_paths([path])  # must never raise
        check_problems(result.problems, path)
        for article in result.articles:
            check_article(article)
        assert result.articles or result.problems or suffix in (".json", ".jsonl", ".csv")  # no silent loss
        return result


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_SUFFIXES), st.one_of(_random_bytes, _encoded, _markup, _json_files))
def test_any_file_content_becomes_articles_or_problems(suffix: str, data: bytes) -> None:
    _load_bytes(suffix, data)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(_SUFFIXES), _huge_line)
def test_huge_lines(suffix: str, data: bytes) -> None:
    _load_bytes(suffix, data)


_vocabulary = "the harbour reopened on Thursday after repairs , said Price \u00e9t\u00e9 & < >".split()
_words = st.lists(st.sampled_from(_vocabulary + ["\u201cquoted\u201d", "S- 400", "NATO ."]), min_size=1, max_size=30)
_paragraphs = st.lists(st.one_of(_words.map(" ".join), st.text(max_size=80).map(html.escape)), min_size=1, max_size=6)
_nav = st.sampled_from(["<a href='/'>Home</a>", "<ul><li>News</li><li>Sport</li></ul>", "&amp;", "&#0;", "&#xD800;",
                        "<style>p{}</style>", "<div class='cookie'>We use cookies</div>", "\x00", "\u202e", "\x1b[31m"])


@settings(max_examples=100, deadline=None)
@given(_paragraphs, st.lists(_nav, max_size=6), st.booleans())
def test_generated_html_pages(paragraphs: list[str], junk: list[str], escape: bool) -> None:
    body = "".join(f"<p>{html.escape(p) if escape else p}</p>" for p in paragraphs)
    page = (f"<html><head><title>{html.escape(paragraphs[0][:40])}</title><script>var SCRIPT_MARKER = 1;</script>"
            f"</head><body><nav>{''.join(junk)}</nav><article>{body}</article>"
            f"<footer><script>FOOTER_SCRIPT_MARKER()</script></footer></body></html>")
    result = _load_bytes(".html", page.encode())
    for article in result.articles:
        assert "SCRIPT_MARKER" not in article.text


_line = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00\ufeff"), max_size=60)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_records.map(lambda r: json.dumps(r, ensure_ascii=False)),
                          _records.map(json.dumps), _line), max_size=8),
       st.sampled_from(["\n", "\r\n"]))
def test_jsonl_every_line_is_an_article_or_a_problem(lines: list[str], newline: str) -> None:
    result = _load_bytes(".jsonl", newline.join(lines).encode())
    expected = [n for n, line in enumerate(lines, start=1) if line.strip()]
    if not expected:  # a file with no records is itself reported
        assert result.articles == [] and [(p.line, p.reason) for p in result.problems] == [
            (None, "no articles in the file")]
        return
    reported = sorted([int(a.origin.rsplit(":", 1)[1]) for a in result.articles] + [p.line for p in result.problems])
    assert reported == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(_json, max_size=6), st.lists(_records, max_size=6), st.randoms(use_true_random=False))
def test_json_every_item_is_an_article_or_a_problem(junk: list[object], records: list[object], rnd) -> None:
    items = junk + records
    rnd.shuffle(items)
    result = _load_bytes(".json", json.dumps(items).encode())
    assert len(result.articles) + len(result.problems) == max(len(items), 1)  # an empty list is one problem


_cell = st.text(st.characters(codec="utf-8", exclude_characters="\x00\ufeff"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.just("text"), st.just("title"), st.just("published"), _cell), min_size=1, max_size=5,
                unique=True),
       st.data())
def test_csv_every_row_is_an_article_or_a_problem(header: list[str], data) -> None:
    rows = data.draw(st.lists(st.lists(_cell, min_size=len(header), max_size=len(header)), max_size=6))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    result = _load_bytes(".csv", out.getvalue().encode())
    if "text" not in header:
        assert result.articles == [] and len(result.problems) == 1
    else:
        assert len(result.articles) + len(result.problems) == max(len(rows), 1)  # no rows is one problem
        if not rows:
            return
        lines = len(io.StringIO(out.getvalue(), newline="").readlines())  # as csv counts them
        starts = sorted([int(a.origin.rsplit(":", 1)[1]) for a in result.articles] + [p.line for p in result.problems])
        assert len(set(starts)) == len(rows) and all(2 <= n <= lines for n in starts)


def test_load_paths_on_nothing() -> None:
    result = load_paths([])
    assert (result.articles, result.problems, result.files) == ([], [], 0)


@pytest.mark.skipif(os.name != "posix", reason="symlink loops are POSIX")
def test_symlink_loop_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    result = load_paths([tmp_path / "loop.txt"])
    assert result.articles == [] and len(result.problems) == 1
