"""Text normalization: the clean-ups real feeds need, idempotence, and decoding of legacy encodings."""

from __future__ import annotations

import codecs
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from newsqa.normalize import decode, dedupe_key, normalize_field, normalize_text

CASES = [
    # stray spaces before punctuation (the sample article)
    ("the participating countries NATO . This was", "the participating countries NATO. This was"),
    ("Jens Stoltenberg , reports Interfax .", "Jens Stoltenberg, reports Interfax."),
    ("rates rose 5 % ; bonds fell : sharply", "rates rose 5%; bonds fell: sharply"),
    ("the system ( SAM ) was bought", "the system (SAM) was bought"),
    ("wait ... what", "wait ... what"),
    ("SAMP / T air defense", "SAMP / T air defense"),
    # designators split from their numbers
    ("due to Russian S- 400.", "due to Russian S-400."),
    ("the F- 35 fighter", "the F-35 fighter"),
    ("a well- known fact", "a well- known fact"),
    # quotes mangled by an ASCII conversion in the demo corpus
    ('Betsy DeVos"?highly qualified', 'Betsy DeVos" highly qualified'),
    ('said Trump."?"I think so', 'said Trump." "I think so'),
    ('he said."?\nNext paragraph', 'he said."\nNext paragraph'),
    ('we didn"t know', "we didn't know"),
    ('Trump"s plan', "Trump's plan"),
    ('they"re here and we"ll see', "they're here and we'll see"),
    # ... but a real question is left alone
    ('"Is it over?" she asked.', '"Is it over?" she asked.'),
    ('He asked: "Why?"', 'He asked: "Why?"'),
    ('Who said "enough"? Nobody did.', 'Who said "enough"? Nobody did.'),
    ('Who said "enough"?', 'Who said "enough"?'),
    # control characters and zero-width / bidi / BOM characters
    ("bell\x07 and\x00 null", "bell and null"),
    ("zero\u200bwidth\u200d joiner", "zerowidth joiner"),
    ("\ufeffByte order mark", "Byte order mark"),
    ("bidi \u202eoverride\u202c text", "bidi override text"),
    # Unicode NFC and encoding damage
    ("Cafe\u0301 society", "Caf\u00e9 society"),
    ("Turkey\u00e2\u20ac\u2122s choice", "Turkey's choice"),
    # whitespace
    ("many   spaces\tand\u00a0tabs", "many spaces and tabs"),
    ("windows\r\nand\rold mac", "windows\nand\nold mac"),
    ("para one\n\n\n\n\npara two", "para one\n\npara two"),
    ("  padded line  \n  next  \n", "padded line\nnext"),
    ("line\u2028separator", "line\nseparator"),
    # sentences run together
    ("the minister said.According to him", "the minister said. According to him"),
    ("Is it over?Nobody knows", "Is it over? Nobody knows"),
    ("U.S.Army and e.g.The and example.com", "U.S.Army and e.g.The and example.com"),
    ("version 2.0 shipped", "version 2.0 shipped"),
    ("", ""),
    (" \n\t ", ""),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected
    assert normalize_text(expected) == expected


def test_sample_article_is_cleaned(sample_article) -> None:
    text = normalize_text(sample_article.read_text(encoding="utf-8"))
    assert "NATO ." not in text and "countries NATO. This" in text
    assert "Stoltenberg , reports Interfax ." not in text and "Stoltenberg, reports Interfax." in text
    assert "S- 400" not in text and "due to Russian S-400." in text
    assert normalize_text(text) == text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalize_text_is_idempotent(raw: str) -> None:
    once = normalize_text(raw)
    assert normalize_text(once) == once
    assert once == once.strip()
    assert unicodedata.is_normalized("NFC", once)


# Text built from the characters the rules act on, so the rules meet each other often.
_TRICKY = st.text(alphabet=st.sampled_from(list(
    'aZSs t."?!,;:%()[]-4 \n\r\t\u00a0\u200b\ufeff\x00\x07\u2028\u201c\u201d\u2019\u0301\u00e2\u20ac\u2122')),
    max_size=80)


@settings(max_examples=200, deadline=None)
@given(_TRICKY)
def test_normalize_text_is_idempotent_on_rule_characters(raw: str) -> None:
    once = normalize_text(raw)
    assert normalize_text(once) == once
    assert not any(c in once for c in "\r\x00\x07\u200b\ufeff\u00a0\t")
    assert "\n\n\n" not in once and "  " not in once


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.text(), st.integers(), st.floats(), st.lists(st.text(), max_size=3)))
@example("Â\r0")  # folding the line break made "Â 0", which ftfy then reads as encoding damage
def test_normalize_field_is_one_clean_line(value: object) -> None:
    field = normalize_field(value)
    assert "\n" not in field and field == field.strip() and "  " not in field
    assert normalize_field(field) == field


def test_normalize_field_folds_lines() -> None:
    assert normalize_field("  Harbour\nreopens \n after  storm ") == "Harbour reopens after storm"
    assert normalize_field(None) == ""
    assert normalize_field(2020) == "2020"


def test_dedupe_key_ignores_case_punctuation_and_spacing() -> None:
    assert dedupe_key("Harbour reopens, after storm!") == dedupe_key("harbour  reopens after\nstorm")
    assert dedupe_key("Harbour reopens") != dedupe_key("Harbour closes")


# ---------------------------------------------------------------- decoding

_CURLY = "\u201cWe can\u2019t,\u201d said Ren\u00e9e \u2014 \u20ac2"


@pytest.mark.parametrize("data", [
    _CURLY.encode("utf-8"),
    codecs.BOM_UTF8 + _CURLY.encode("utf-8"),
    _CURLY.encode("utf-16"),  # with a BOM, in the machine's byte order
    codecs.BOM_UTF16_LE + _CURLY.encode("utf-16-le"),
    codecs.BOM_UTF16_BE + _CURLY.encode("utf-16-be"),
    _CURLY.encode("cp1252"),
])
def test_decode_reads_utf8_utf16_and_cp1252(data: bytes) -> None:
    assert decode(data) == _CURLY


def test_decode_rejects_binary_and_undecodable_bytes() -> None:
    with pytest.raises(UnicodeDecodeError, match="NUL"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(UnicodeDecodeError):
        decode(b"neither UTF-8 nor cp1252: \x81\x8d")
    with pytest.raises(UnicodeDecodeError):
        decode(_CURLY.encode("utf-16-le"))  # UTF-16 without a BOM holds NUL bytes: not guessed


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_decode_returns_text_or_raises_unicode_error(data: bytes) -> None:
    try:
        text = decode(data)
    except UnicodeDecodeError:
        return
    assert isinstance(text, str)
    normalize_text(text)
