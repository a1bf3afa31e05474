"""Text clean-up for what real feeds contain, and the keys used to spot duplicates.

`normalize_text` is idempotent: stored article text is its output, and every
offset and quote newsqa reports refers to that stored text.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata

import ftfy

# Characters that are never text: C0/C1 controls except tab and newline, and Unicode
# format characters such as zero-width spaces and bidi overrides.
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Control characters that separate lines or records (vertical tab, form feed, file/group/record separators).
_BREAKS = re.compile(r"[\x0b\x0c\x1c-\x1e]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# "NATO ." -> "NATO."; an opening bracket keeps the space before it.
_SPACE_BEFORE_PUNCT = re.compile(r"(?<=\S) +([.,;:!?)\]%](?=\s|$|[\"')\]]))")
_SPACE_AFTER_OPEN = re.compile(r"([(\[]) +")
# "S- 400" -> "S-400": a designator split from its number.
_SPLIT_DESIGNATOR = re.compile(r"\b([A-Z]{1,5})- (\d)")
# "ended.Next" -> "ended. Next": sentences run together without a space.
_RUN_TOGETHER = re.compile(r"(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")
# A closing curly quote or apostrophe that an ASCII conversion turned into '"?',
# swallowing the space after it ('DeVos"?highly', 'Trump."?"I think'), and a
# mid-word apostrophe turned into '"' ('didn"t', 'Trump"s'). Before a space or the end,
# only after punctuation ('he said."?'): in 'Who said "enough"? No one.' it is a real question.
_MANGLED_CLOSE_QUOTE = re.compile(r'"\?(?=[^\s?])')
_MANGLED_CLOSE_QUOTE_END = re.compile(r'(?<=[.,!?])"\?(?=\s|$)')
_MANGLED_APOSTROPHE = re.compile(r"(?<=[A-Za-z])\"(?=(?:s|t|re|ve|ll|d|m)\b)")


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252.

    Raises UnicodeDecodeError with a plain reason when none of them fits or the
    bytes are binary, so the caller can report the file and skip it.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data:
        raise UnicodeDecodeError("utf-8", data, data.index(b"\x00"), data.index(b"\x00") + 1,
                                 "binary data (NUL byte)")  # the caller adds the advice
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")  # the usual legacy encoding of Western news text; raises if not it


# Text longer than this is cleaned a block at a time, the blocks cut at paragraph breaks: whole, each
# pass held several copies of the text and a list of its lines, 350 MB more at the peak for a 20 MB
# file (bench/memory.py).
BLOCK_CHARS = 1_000_000
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")  # a blank line, and any blank space after it


def paragraph_blocks(text: str, size: int = BLOCK_CHARS) -> list[tuple[int, int]]:
    """(start, end) of consecutive blocks of `text` of about `size` characters or more, each ending at
    the first paragraph break past `size` (the break itself is in no block); one block if there is none."""
    blocks, start = [], 0
    while len(text) - start > size:
        found = _PARAGRAPH_BREAK.search(text, start + size)
        if not found:
            break
        blocks.append((start, found.start()))
        start = found.end()
    blocks.append((start, len(text)))
    return blocks


def normalize_text(text: str) -> str:
    """Clean article text: encoding damage, invisible characters, stray spaces, split tokens.

    Applied until it no longer changes the text (in practice once or twice), which
    makes it idempotent by construction. A long text is cleaned a paragraph-aligned block at a
    time, and gives the same text: paragraphs are cleaned apart and joined by one blank line.
    """
    if len(text) > BLOCK_CHARS:
        blocks = (_normalize_block(text[start:end]) for start, end in paragraph_blocks(text))
        return "\n\n".join(block for block in blocks if block)
    return _normalize_block(text)


def _normalize_block(text: str) -> str:
    for _ in range(4):
        cleaned = _normalize_once(text)
        if cleaned == text:
            break
        text = cleaned
    return text


def _normalize_once(text: str) -> str:
    text = ftfy.fix_text(text, normalization="NFC")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _MANGLED_CLOSE_QUOTE.sub('" ', text)
    text = _MANGLED_CLOSE_QUOTE_END.sub('"', text)
    text = _MANGLED_APOSTROPHE.sub("'", text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _SPACE_AFTER_OPEN.sub(r"\1", text)
    text = _SPLIT_DESIGNATOR.sub(r"\1-\2", text)
    text = _RUN_TOGETHER.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return unicodedata.normalize("NFC", text.strip())


def normalize_field(value: object) -> str:
    """A one-line metadata field (title, source): normalized, newlines folded to spaces."""
    if value is None:
        return ""
    text = str(value)
    for _ in range(4):  # folding a newline can make new encoding damage ("Â\r0" -> "Â 0"): repeat until stable
        cleaned = " ".join(normalize_text(text).split())
        if cleaned == text:
            break
        text = cleaned
    return text


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_NON_WORD = re.compile(r"[\W_]+")


_WORD_START = re.compile(r"(?<=[\W_])(?=[^\W_])")


def dedupe_key(text: str) -> str:
    """Equal for texts that differ only in case, punctuation or spacing.

    A long text is hashed a block at a time, each cut where a word starts (so no run of punctuation
    is split) to the same key: whole, the substitution made a piece per word, 570 MB for 50 MB."""
    if len(text) <= BLOCK_CHARS:
        return text_hash(_NON_WORD.sub(" ", text.casefold()).strip())
    digest, start = hashlib.sha256(), 0
    while start < len(text):
        cut = _WORD_START.search(text, start + BLOCK_CHARS)
        end = cut.start() if cut else len(text)
        piece = _NON_WORD.sub(" ", text[start:end].casefold())
        piece = piece.lstrip() if start == 0 else piece
        digest.update((piece.rstrip() if end == len(text) else piece).encode("utf-8"))
        start = end
    return digest.hexdigest()
