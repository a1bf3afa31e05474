"""Sentence splitting and chunking, measured with the real all-MiniLM-L6-v2 tokenizer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsqa.chunking import Chunker, split_sentences
from newsqa.config import ChunkSettings
from newsqa.ingest import load_paths
from newsqa.normalize import normalize_text
from newsqa.types import Article, Chunk, Span


def token_count(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=True)["input_ids"])


def check_chunks(article: Article, chunks: list[Chunk], chunker: Chunker, max_tokens: int) -> None:
    """Offsets, token budget, sentence spans and coverage: what every chunking must satisfy."""
    text = article.text
    sentences = split_sentences(text)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.article_id == article.id
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.text == text[chunk.start:chunk.end]
        assert token_count(chunker.tokenizer, chunk.text) <= max_tokens
        assert chunk.sentences and chunk.sentences[0].start == chunk.start and chunk.sentences[-1].end == chunk.end
        for before, after in zip(chunk.sentences, chunk.sentences[1:]):
            assert before.end <= after.start
        for span in chunk.sentences:
            assert chunk.start <= span.start < span.end <= chunk.end
            piece = text[span.start:span.end]
            assert piece == piece.strip()
            if span not in sentences:  # a piece of a sentence: only when that sentence alone is over the limit
                [whole] = [s for s in sentences if s.start <= span.start and span.end <= s.end]
                assert token_count(chunker.tokenizer, text[whole.start:whole.end]) - 2 > chunker.limit
    for before, after in zip(chunks, chunks[1:]):
        assert before.start < after.start and before.end < after.end
        assert after.start <= before.end or _gap_is_blank(text, before.end, after.start)
    covered = {i for chunk in chunks for span in chunk.sentences for i in range(span.start, span.end)}
    assert all(c.isspace() for i, c in enumerate(text) if i not in covered)  # nothing is lost
    assert bool(chunks) == bool(text.strip())


def _gap_is_blank(text: str, start: int, end: int) -> bool:
    return not text[start:end].strip()


@pytest.fixture(scope="module")
def chunker(embedder) -> Chunker:
    return Chunker(embedder.tokenizer, embedder.max_tokens, ChunkSettings())


def test_limit_is_the_model_limit_minus_special_tokens(embedder, chunker: Chunker) -> None:
    assert embedder.max_tokens == 256
    assert chunker.limit == 254 and chunker.target == 200 and chunker.overlap == 48
    small = Chunker(embedder.tokenizer, embedder.max_tokens, ChunkSettings(max_tokens=64, target_tokens=500))
    assert small.limit == 62 and small.target == 62 and small.overlap == 31
    assert Chunker(embedder.tokenizer, 256, ChunkSettings(max_tokens=10_000)).limit == 254  # never above the model


def test_split_sentences_sample(sample_article) -> None:
    [article] = load_paths([sample_article]).articles
    spans = split_sentences(article.text)
    sentences = [article.text[s.start:s.end] for s in spans]
    # the sample has no headline line: its title is the first sentence, shortened for a card
    assert sentences[0].startswith(article.title.rstrip("…")) and len(sentences[0]) > len(article.title)
    assert sentences[1] == ("This was announced on Tuesday, December 29, by the Secretary General of the North "
                            "Atlantic Alliance Jens Stoltenberg, reports Interfax.")
    assert '"In addition, it poses a risk to the planes of the allies," the secretary general stressed.' in sentences
    assert sentences[-1].endswith("to Turkey.")


def test_split_sentences_keeps_lines_apart() -> None:
    text = "Headline without a stop\nFirst sentence. Second one!\n\n- a list item\n***"
    assert [text[s.start:s.end] for s in split_sentences(text)] == [
        "Headline without a stop", "First sentence.", "Second one!", "- a list item", "***"]
    assert split_sentences("") == [] and split_sentences(" \n \n") == []


def test_sample_article_chunks(sample_article, chunker: Chunker, embedder) -> None:
    [article] = load_paths([sample_article]).articles
    chunks = chunker.chunk(article)
    check_chunks(article, chunks, chunker, embedder.max_tokens)
    assert token_count(embedder.tokenizer, article.text) > 256  # too long for one chunk
    assert len(chunks) >= 2
    assert chunks[0].start == 0 and chunks[-1].end == len(article.text)


def test_long_article_overlaps_by_whole_sentences(chunker: Chunker, embedder) -> None:
    sentences = [f"Sentence number {i} reports that the harbour council met again on day {i}." for i in range(120)]
    article = Article(text=" ".join(sentences), id="long")
    chunks = chunker.chunk(article)
    check_chunks(article, chunks, chunker, embedder.max_tokens)
    assert len(chunks) > 5
    for before, after in zip(chunks, chunks[1:]):
        shared = set(before.sentences) & set(after.sentences)
        assert shared and after.sentences[0] in shared  # the next chunk starts with carried sentences
        carried = sum(token_count(embedder.tokenizer, article.text[s.start:s.end]) - 2 for s in shared)
        assert carried <= chunker.overlap
        assert chunk_tokens(embedder, before) <= chunker.target + 2


def test_overlap_never_makes_a_chunk_of_old_sentences_only(chunker: Chunker, embedder) -> None:
    short = [f"Short sentence {i} is here." for i in range(30)]  # 6 tokens each: a full first chunk
    long = "The council " + " ".join(["discussed the harbour budget"] * 40) + "."  # 163 tokens: over 200 - 48
    article = Article(text=" ".join(short + [long, "The end."]), id="overlap")
    chunks = chunker.chunk(article)
    check_chunks(article, chunks, chunker, embedder.max_tokens)
    assert any(article.text[s.start:s.end] == long for s in chunks[1].sentences)
    for before, after in zip(chunks, chunks[1:]):
        assert set(after.sentences) - set(before.sentences)


def chunk_tokens(embedder, chunk: Chunk) -> int:
    return token_count(embedder.tokenizer, chunk.text)


def test_over_long_sentence_is_cut_between_words(chunker: Chunker, embedder) -> None:
    runaway = " ".join(f"clause{i} and then" for i in range(400))  # one sentence of ~1600 tokens
    article = Article(text=f"Short opener. {runaway}. Short closer.", id="runaway")
    chunks = chunker.chunk(article)
    check_chunks(article, chunks, chunker, embedder.max_tokens)
    pieces = [s for c in chunks for s in c.sentences if s not in split_sentences(article.text)]
    assert len(pieces) >= 6
    for piece in pieces:
        before = article.text[piece.start - 1] if piece.start else " "
        after = article.text[piece.end] if piece.end < len(article.text) else " "
        assert not before.isalnum() and not after.isalnum(), article.text[piece.start - 5:piece.end + 5]


@pytest.mark.parametrize("sentence", [
    "\ud53dAAAAAAAAAAAAAAAAAAAABD\u0110A\u0110\u0110A\u019cA.",  # a Hangul syllable: three tokens, one character
    # the rest of a word cut in two takes more tokens than it did as part of the word
    "AAAAAAAAA\ud154A\u0110BPB\u00aaA\u0110BJBAA\u00aaA\u014a\u3042A\u3042A.",
    "\u4e2d\u0301" * 40 + ".",  # a stripped accent, which makes no token, sits between two pieces
], ids=["hangul", "word-rest", "no-token-char"])
def test_cut_pieces_of_one_unbroken_word(embedder, sentence: str) -> None:
    chunker = Chunker(embedder.tokenizer, embedder.max_tokens, ChunkSettings(max_tokens=24))
    article = Article(text=normalize_text("Short. " + sentence), id="word")
    check_chunks(article, chunker.chunk(article), chunker, 24)


def test_smaller_configured_limit(embedder) -> None:
    chunker = Chunker(embedder.tokenizer, embedder.max_tokens, ChunkSettings(max_tokens=32, overlap_tokens=8))
    article = Article(text=" ".join(["The ministry published new figures on Monday morning."] * 20), id="small")
    chunks = chunker.chunk(article)
    check_chunks(article, chunks, chunker, 32)
    assert len(chunks) == 7  # three ~10-token sentences fit in 30; an 8-token overlap carries none


def test_empty_article_has_no_chunks(chunker: Chunker) -> None:
    assert chunker.chunk(Article(text="", id="e")) == []
    assert chunker.chunk(Article(text="\n \n", id="e")) == []


def test_chunk_offsets_survive_unicode(chunker: Chunker, embedder) -> None:
    text = normalize_text("Caf\u00e9 \u201cS\u00e3o Paulo\u201d \u2014 \u20ac2 \U0001f600 tax.\n"
                          "\u5317\u4eac\u5e02 \u533a. Zo\u00eb\u0301 said \u0928\u092e\u0938\u094d\u0924\u0947.")
    article = Article(text=text, id="u")
    chunks = chunker.chunk(article)
    check_chunks(article, chunks, chunker, embedder.max_tokens)
    assert [article.text[s.start:s.end] for s in chunks[0].sentences][0].startswith("Caf\u00e9")


# ---------------------------------------------------------------- generated text

_word = st.one_of(
    st.sampled_from("the a harbour council Stoltenberg NATO S-400 said reports 2020 4.2 million , ; : ( ) \"".split()),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S"]), min_size=1, max_size=12),
    st.text(st.characters(codec="utf-8", categories=["L"]), min_size=30, max_size=120),  # long unknown "words"
)
_sentence = st.builds(lambda words, end: " ".join(words) + end, st.lists(_word, min_size=1, max_size=60),
                      st.sampled_from([".", "!", "?", "", ".\"", " ..."]))
_article_text = st.builds(
    lambda sentences, seps: "".join(s + seps[i % len(seps)] for i, s in enumerate(sentences)),
    st.lists(_sentence, min_size=1, max_size=40), st.lists(st.sampled_from([" ", "\n", "\n\n", ""]), min_size=1))


@pytest.fixture(scope="module")
def chunkers(embedder) -> dict[int, Chunker]:
    return {limit: Chunker(embedder.tokenizer, embedder.max_tokens, ChunkSettings(max_tokens=limit))
            for limit in (0, 24, 64)}


# Article text is always normalize_text output (no control characters, no stray whitespace), so that is what
# the generated text goes through first.


@settings(max_examples=150, deadline=None)
@given(st.one_of(_article_text, st.text(max_size=2000)), st.sampled_from([0, 24, 64]))
def test_chunks_of_generated_text(chunkers, embedder, raw: str, limit: int) -> None:
    article = Article(text=normalize_text(raw), id="generated")
    chunker = chunkers[limit]
    check_chunks(article, chunker.chunk(article), chunker, min(limit or embedder.max_tokens, embedder.max_tokens))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=500))
def test_split_sentences_spans_are_trimmed_ordered_and_cover_the_text(raw: str) -> None:
    text = normalize_text(raw)
    spans = split_sentences(text)
    for before, after in zip(spans, spans[1:]):
        assert before.end <= after.start
    for span in spans:
        piece = text[span.start:span.end]
        assert piece and piece == piece.strip() and "\n" not in piece
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert all(c.isspace() for i, c in enumerate(text) if i not in covered)
    assert all(isinstance(s, Span) for s in spans)
