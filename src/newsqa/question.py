"""Reading a question before retrieval: validation, follow-ups, and the period it names.

A follow-up ("And when were they imposed?") borrows the earlier questions of the
conversation for retrieval; a question that stands on its own does not. A
period the question names ("in March 2017", "last December") becomes a date
filter, read relative to the newest article in the index, that also keeps the
weeks after the period in which it was still reported.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .lexical import content_words, fold, terms, words
from .normalize import normalize_field
from .retrieve import Filters

MAX_QUESTION_CHARS = 2000

_CONTINUATIONS = ("and", "but", "so", "also", "then", "what about", "how about", "and what", "what else")
_ANAPHORA = frozenset("they them their theirs it its this that these those he him his she her there then such".split())
_STANDALONE_WORDS = 3  # a question with this many content words and no pronoun stands on its own


# Noise a pasted or hostile question carries that no article word matches: markup, links, and runs of
# symbols. "<img src=x onerror=alert(1)> what happened in Aleppo?" asks what "what happened in Aleppo?" asks.
_MARKUP = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|$)|<!--.*?(?:-->|$)|</?[A-Za-z][^<>]*(?:>|$)", re.I | re.S)
_LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
_SYMBOL_RUN = re.compile(r"[^\w\s?!.,;:'\"’%$€£()-]{2,}|[^\w\s]{4,}")


def validate(question: object) -> str:
    """The question, cleaned of markup, links and symbol runs, or ValueError saying what is wrong with it."""
    if not isinstance(question, str):
        raise ValueError(f"the question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    text = html.unescape(_MARKUP.sub(" ", question))  # "&amp;" is "&"; an escaped tag is text, not markup
    cleaned = normalize_field(_SYMBOL_RUN.sub(" ", _LINK.sub(" ", text)))
    if not cleaned:
        raise ValueError("the question is empty (or only markup and links); ask something, e.g. "
                         "'Why did the US sanction Turkey?'")
    return cleaned


def message_text(content: Any) -> str:
    """Text of a chat message's content: a string, or a list of parts as Gradio and OpenAI send them."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    if isinstance(content, Sequence):
        return " ".join(message_text(part) for part in content)
    return ""


# A name or a number: a capitalized word that does not open a sentence ("S-400", "Ankara"), or digits.
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'-]*[a-z0-9]\w*|\b\d[\d,.]*\b")
# A run of capitalized words in running text ("Anis Amri", "the Islamic State"): what an answer introduces.
_NAME_RUN = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w'-]*[a-z0-9][\w'-]*(?:\s+(?:of\s+)?[A-Z][\w'-]*)*")
CALENDAR_WORDS = frozenset(m.lower() for m in (*calendar.month_name, *calendar.day_name) if m)
_ANSWER_NAMES = 4  # names of the last answer carried into a follow-up's query: its people and places, not a list


def names(text: str) -> list[str]:
    """The names and numbers of a text, as written (see `_NAME`)."""
    return _NAME.findall(text)


def named_terms(question: str) -> set[str]:
    """Stemmed names and numbers of a question: what an article must mention to be about its subject."""
    return {t for match in names(question) for t in terms(match)}


def is_follow_up(question: str) -> bool:
    """Whether a question leans on the conversation: it opens with "and / what about", is very short,
    points back with a pronoun, or names nothing at all ("When were the sanctions imposed?": which
    sanctions is said only earlier; a news question that stands alone names its subject)."""
    tokens = words(question)
    text = " ".join(tokens)
    if any(text == c or text.startswith(c + " ") for c in _CONTINUATIONS):
        return True
    n_content = len(content_words(question))
    return (n_content < 2 or (n_content <= _STANDALONE_WORDS + 1 and bool(_ANAPHORA & set(tokens)))
            or not names(question))


def retrieval_query(question: str, history: Sequence[dict[str, Any]] | None) -> str:
    """The question, preceded by the user's earlier questions it depends on and the names the last
    answer introduced ("Where was he born?" after an answer naming the suspect asks about him)."""
    if not history or not is_follow_up(question):
        return question
    messages = [m for m in history if isinstance(m, dict)]
    earlier = [q for q in (normalize_field(message_text(m.get("content"))) for m in messages
                           if m.get("role") == "user") if q]
    context: list[str] = []
    for previous in reversed(earlier[-3:]):
        context.insert(0, previous)
        if not is_follow_up(previous):
            break  # reached the question the thread started from
    answers = [message_text(m.get("content")) for m in messages if m.get("role") == "assistant"]
    introduced = _introduced_names(answers[-1], " ".join([*context, question])) if answers else []
    return " ".join([*context, *introduced, question])


def _introduced_names(answer: str, asked: str) -> list[str]:
    """Names in an answer that the questions did not already use, first seen first; dates and
    outlets' domain names ("tass.com reported on 15 March 2017:") are not subjects."""
    known = set(terms(asked))
    found: list[str] = []
    for name in _NAME_RUN.findall(normalize_field(answer)):
        if "." in name or all(w in CALENDAR_WORDS or w.isdigit() for w in words(name)):
            continue
        new = [t for t in terms(name) if t not in known]
        if new and name not in found:
            found.append(name)
            known.update(new)
        if len(found) >= _ANSWER_NAMES:
            break
    return found


# ------------------------------------------------------------------ outlets

# "According to TASS, ...", "What did the BBC report ...", "How did Al Jazeera describe ...": the question
# asks what one outlet said, so the answer must come from that outlet's articles. A name alone ("Why did
# Trump attack CNN?") is a subject, not an attribution.
_OUTLET = r"(?P<outlet>[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,2})"
_ATTRIBUTIONS = [re.compile(p) for p in (
    r"\b[Aa]ccording to (?:the\s+)?" + _OUTLET,
    r"\b(?:did|does|do|has|have|had|would|will)\s+(?:the\s+)?" + _OUTLET + r"(?:'s?)?\s+(?:say|report|write|"
    r"describe|claim|tell|quote|call|state|note|cite|put|estimate|give|list|mention|reveal|publish)",
    r"(?:^|\bthe\s+)" + _OUTLET + r"\s+(?:says|said|reports|reported|wrote|writes|describes|described|claims|claimed)",
    r"\b(?i:in|from|by)\s+(?:the\s+)?" + _OUTLET + r"(?:'s?)?\s+(?:report|article|story|coverage|reporting)",
    _OUTLET + r"['’]s\s+(?:account|report|reporting|coverage|version|story|article|reporter|correspondent)",
)]
# Domain labels that name no outlet ("abcnews.go.com", "europe.chinadaily.com.cn", "bbc.co.uk").
_DOMAIN_PARTS = frozenset("www com co org net gov go uk ie cn de fr ru us au in edu int news europe edition".split())
_NEWS = re.compile(r"news$")  # "news" ends many outlets' names and domains, and is dropped as often
_MIN_ABBREVIATED = 4  # "HuffPost" may stand for "huffingtonpost"; shorter names must match whole


def outlets_named(question: str, sources: Sequence[str]) -> tuple[str, ...]:
    """The outlets among `sources` (names or domains) that the question attributes its answer to."""
    keys = {source: _outlet_key(source) for source in sources}
    for pattern in _ATTRIBUTIONS:
        for match in pattern.finditer(question):
            phrase = match.group("outlet")
            found = tuple(s for s, key in keys.items() if key and _names(phrase, key))
            if found:
                return found
    return ()


def _outlet_key(source: str) -> str:
    """"bbc.co.uk" -> "bbc", "abcnews.go.com" -> "abcnews", "China Daily" -> "chinadaily"."""
    if "." in source and " " not in source.strip():
        labels = [label for label in fold(source).split(".") if label not in _DOMAIN_PARTS]
        return max(labels, key=len, default="")
    return _squash(source)


def _squash(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isalnum())


def _names(phrase: str, key: str) -> bool:
    """Whether a phrase of the question names the outlet whose key is `key`: the same letters
    ("Al Jazeera" / aljazeera), its initials ("Deutsche Welle" / dw), or a shortening that keeps
    the first three letters and the order of the rest ("HuffPost" / huffingtonpost)."""
    squashed = _squash(phrase)
    if squashed == key or _NEWS.sub("", squashed) == _NEWS.sub("", key):  # "BBC News" / bbc, "ABC" / abcnews
        return True
    initials = "".join(w[0] for w in words(phrase))
    if len(initials) > 1 and initials == key:
        return True
    if len(squashed) < _MIN_ABBREVIATED or squashed[:3] != key[:3]:
        return False
    rest = iter(key)
    return all(ch in rest for ch in squashed)


# ------------------------------------------------------------------ periods

_SECOND_QUESTION = re.compile(
    r"(?:,?\s+and\s+|\?\s+)(?=(?:what|when|where|who|whom|whose|why|how|which|(?:in|on|at|to|from|by|under|for|until|"
    r"till|since|after|before|during|with|about)\s+(?:what|which|how|whom|when))\b)", re.I)
_MIN_PART_WORDS = 3


def question_parts(question: str) -> list[str]:
    """The questions a compound question asks ("Where is he based, and when did he work there?"),
    so each part gets its own answer; a plain question is one part."""
    parts = [p.strip(" ,;?") for p in _SECOND_QUESTION.split(question)]
    if len(parts) < 2 or any(len(p.split()) < _MIN_PART_WORDS for p in parts):
        return [question]
    return [p + "?" for p in parts]


_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_PREP = (r"\b(?P<prep>in|during|on|since|after|from|before|until|by|throughout|as\s+of)\s+(?P<the>the\s+)?"
         r"(?:(?:month|year)\s+of\s+)?")
# "the day after the March 2017 vote": the period dates an event ("vote"), and "after" is relative to that
# event, which happened within the period, not after it.
_NOUN_AFTER = re.compile(r"\s+(?!(?:and|or|but|when|while|as|to|in|on|at|of|for|with|by|from|that|which|who|was|"
                         r"were|is|are|did|has|had|have|will)\b)[a-z]", re.I)
_PERIODS = [re.compile(p, re.I) for p in (
    _PREP + _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR + r"\b",
    _PREP + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + r"\b",
    _PREP + _MONTH + r",?\s+" + _YEAR + r"\b",
    _PREP + _YEAR + r"\b(?!\s*[-/]?\s*\w*\d)",
    r"\b(?P<rel>last|this|past|previous)\s+(?:(?P<unit>year|month|week)|" + _MONTH + r")\b",
    _PREP + _MONTH + r"\b(?!\s+\d)",
)]


def period(question: str, newest: str, months: Mapping[str, int] | None = None) -> Filters | None:
    """The date range a question names, or None. `newest` is the newest article's ISO date; `months`
    counts the articles of each month ("YYYY-MM"): a month named without a year is the most recent
    such month that the articles cover ("in December", asked of 2016-17 news beside one December 2020
    article, is December 2016)."""
    today = _parse_iso(newest)
    for pattern in _PERIODS:
        for match in pattern.finditer(question):
            found = _range(match.groupdict(), today, months)
            if found:
                start, end, prep = found
                prep = " ".join((prep or "in").lower().split())
                if match.groupdict().get("the") and _NOUN_AFTER.match(question, match.end()):
                    prep = {"after": "since", "before": "by"}.get(prep, prep)  # the event is inside the period
                if prep in ("since", "from"):
                    return Filters(date_from=start.isoformat())
                if prep == "after":
                    return Filters(date_from=(end + dt.timedelta(days=1)).isoformat())
                if prep == "before":
                    return Filters(date_to=(start - dt.timedelta(days=1)).isoformat())
                if prep in ("until", "by", "as of"):
                    return Filters(date_to=end.isoformat())
                return Filters(date_from=start.isoformat(), date_to=(end + _reporting_lag(start, end)).isoformat())
    return None


_COVERED_SHARE = 0.1  # of the busiest such month's articles; the demo: 1 article in December 2020, 127 in December 2016


def _reporting_lag(start: dt.date, end: dt.date) -> dt.timedelta:
    """News of a period is published during it and for a while after: a day's events for two weeks,
    a month's for another month, a year's (annual results, reviews) for another quarter."""
    days = (end - start).days + 1
    return dt.timedelta(days=14 if days == 1 else 31 if days <= 31 else 92)


def _range(parts: dict[str, str | None], today: dt.date | None,
           months: Mapping[str, int] | None = None) -> tuple[dt.date, dt.date, str | None] | None:
    month = _MONTHS.get((parts.get("month") or "").lower().rstrip("."))
    year = int(parts["year"]) if parts.get("year") else None
    rel = (parts.get("rel") or "").lower()
    if year is None and today is None:
        return None  # a relative period needs the index's newest date
    if parts.get("unit"):
        assert today is not None
        unit = parts["unit"].lower()
        if unit == "year":
            y = today.year - (rel != "this")
            return dt.date(y, 1, 1), dt.date(y, 12, 31), "in"
        if unit == "month":
            m_year, m = (today.year, today.month) if rel == "this" else _previous_month(today.year, today.month)
            return dt.date(m_year, m, 1), _month_end(m_year, m), "in"
        end = today if rel == "this" else today - dt.timedelta(days=7)
        return end - dt.timedelta(days=6), end, "in"
    if year is None:
        assert today is not None and month is not None
        year = today.year
        if month > today.month or (rel in ("last", "past", "previous") and month >= today.month):
            year -= 1  # the most recent such month before the newest article
        year = _latest_covered(year, month, months)
    if month is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31), parts.get("prep")
    if parts.get("day"):
        try:
            day = dt.date(year, month, int(parts["day"]))
        except ValueError:
            return None
        return day, day, parts.get("prep")
    return dt.date(year, month, 1), _month_end(year, month), parts.get("prep")


def _latest_covered(year: int, month: int, months: Mapping[str, int] | None) -> int:
    """`year`, or the latest earlier year whose `month` the articles cover: one that holds at least
    `_COVERED_SHARE` of the articles of the best-covered such month (a stray article does not make a
    month covered); `year` when no such month has articles."""
    counts = {int(m[:4]): n for m, n in (months or {}).items()
              if m[5:7] == f"{month:02d}" and m[:4].isdigit() and int(m[:4]) <= year}
    most = max(counts.values(), default=0)
    return max((y for y, n in counts.items() if n >= _COVERED_SHARE * most), default=year)


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _parse_iso(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None
