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
import re
from collections.abc import Sequence
from typing import Any

from .lexical import content_words, words
from .normalize import normalize_field
from .retrieve import Filters

MAX_QUESTION_CHARS = 2000

_CONTINUATIONS = ("and", "but", "so", "also", "then", "what about", "how about", "and what", "what else")
_ANAPHORA = frozenset("they them their theirs it its this that these those he him his she her there then such".split())
_STANDALONE_WORDS = 3  # a question with this many content words and no pronoun stands on its own


def validate(question: object) -> str:
    """The question, cleaned, or ValueError saying what is wrong with it."""
    if not isinstance(question, str):
        raise ValueError(f"the question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    cleaned = normalize_field(question)
    if not cleaned:
        raise ValueError("the question is empty; ask something, e.g. 'Why did the US sanction Turkey?'")
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


def is_follow_up(question: str) -> bool:
    tokens = words(question)
    text = " ".join(tokens)
    if any(text == c or text.startswith(c + " ") for c in _CONTINUATIONS):
        return True
    n_content = len(content_words(question))
    return n_content < 2 or (n_content <= _STANDALONE_WORDS + 1 and bool(_ANAPHORA & set(tokens)))


def retrieval_query(question: str, history: Sequence[dict[str, Any]] | None) -> str:
    """The question, preceded by the user's earlier questions it depends on."""
    if not history or not is_follow_up(question):
        return question
    earlier = [message_text(m.get("content")) for m in history
               if isinstance(m, dict) and m.get("role") == "user"]
    earlier = [q for q in (normalize_field(e) for e in earlier) if q]
    context: list[str] = []
    for previous in reversed(earlier[-3:]):
        context.insert(0, previous)
        if not is_follow_up(previous):
            break  # reached the question the thread started from
    return " ".join([*context, question])


# ------------------------------------------------------------------ periods

_SECOND_QUESTION = re.compile(
    r"(?:,?\s+and\s+|\?\s+)(?=(?:what|when|where|who|whom|whose|why|how|which|(?:in|on|at|to|from|by|under|for)"
    r"\s+(?:what|which|how|whom))\b)", re.I)
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
_PREP = r"\b(?P<prep>in|during|on|since|after|from|before|until|by|throughout)\s+(?:the\s+)?(?:(?:month|year)\s+of\s+)?"
_PERIODS = [re.compile(p, re.I) for p in (
    _PREP + _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR + r"\b",
    _PREP + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + r"\b",
    _PREP + _MONTH + r",?\s+" + _YEAR + r"\b",
    _PREP + _YEAR + r"\b(?!\s*[-/]?\s*\w*\d)",
    r"\b(?P<rel>last|this|past|previous)\s+(?:(?P<unit>year|month|week)|" + _MONTH + r")\b",
    _PREP + _MONTH + r"\b(?!\s+\d)",
)]


def period(question: str, newest: str) -> Filters | None:
    """The date range a question names, or None. `newest` is the newest article's ISO date."""
    today = _parse_iso(newest)
    for pattern in _PERIODS:
        for match in pattern.finditer(question):
            found = _range(match.groupdict(), today)
            if found:
                start, end, prep = found
                prep = (prep or "in").lower()
                if prep in ("since", "from"):
                    return Filters(date_from=start.isoformat())
                if prep == "after":
                    return Filters(date_from=(end + dt.timedelta(days=1)).isoformat())
                if prep == "before":
                    return Filters(date_to=(start - dt.timedelta(days=1)).isoformat())
                if prep in ("until", "by"):
                    return Filters(date_to=end.isoformat())
                return Filters(date_from=start.isoformat(), date_to=(end + _reporting_lag(start, end)).isoformat())
    return None


def _reporting_lag(start: dt.date, end: dt.date) -> dt.timedelta:
    """News of a period is published during it and for a while after: a day's events for two weeks,
    a month's for another month, a year's (annual results, reviews) for another quarter."""
    days = (end - start).days + 1
    return dt.timedelta(days=14 if days == 1 else 31 if days <= 31 else 92)


def _range(parts: dict[str, str | None], today: dt.date | None) -> tuple[dt.date, dt.date, str | None] | None:
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
    if month is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31), parts.get("prep")
    if parts.get("day"):
        try:
            day = dt.date(year, month, int(parts["day"]))
        except ValueError:
            return None
        return day, day, parts.get("prep")
    return dt.date(year, month, 1), _month_end(year, month), parts.get("prep")


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _parse_iso(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None
