"""Settings as typed, nested dataclasses with named presets.

A build records its settings in the index manifest, so an index always says
how it was made; `Settings.from_dict` reads them back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# int8 ONNX: ~2x the chunks/s of torch at recall@5 within a point of it (bench/results/speed-build.md)
DEFAULT_BACKEND = "onnx-int8"
BACKENDS = ("onnx-int8", "onnx", "torch")


@dataclass(frozen=True)
class EmbeddingSettings:
    model: str = DEFAULT_MODEL  # any sentence-transformers name or local path
    # Chunks encoded at once. 8, not 32: the model's activations for 32 full-length chunks took 1.7 GB at the
    # peak of a build (900 MB over the loaded model) against 1.0 GB for 8, at the same chunks/s (611 chunks of
    # 256 tokens, onnx-int8, 2 cores; bench/memory.py has the whole-build figure).
    batch_size: int = 8
    device: str = "cpu"
    # "onnx-int8", "onnx" (float32) or "torch"; a model that cannot be exported runs on torch, and the
    # manifest records the backend that ran, so questions are embedded the way the chunks were
    backend: str = DEFAULT_BACKEND


def _positive_number(value: object) -> bool:
    """A finite number above zero (a bool is not a number here)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and 0 < value < float("inf")


@dataclass(frozen=True)
class IngestSettings:
    # A larger file is skipped with its reason. 20 MB holds thousands of articles as JSON lines; one
    # 50 MB text file took 3.3 GB and 25 min to build before ingestion was made to stream (and still
    # takes minutes of embedding), so it must be asked for (bench/memory.py).
    max_file_mb: float = 20.0

    def __post_init__(self) -> None:
        if not _positive_number(self.max_file_mb):
            raise ValueError(f"the file size limit must be a positive number of megabytes, not {self.max_file_mb!r}")

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)


@dataclass(frozen=True)
class FetchSettings:
    """How web pages and feeds are fetched (fetch.py): politely, and never for long."""

    connect_timeout: float = 10.0  # seconds to open a connection
    read_timeout: float = 20.0  # seconds any one read may wait for bytes
    max_page_mb: float = 5.0  # a larger page or feed is skipped with its reason; a generous bound for HTML and XML
    max_redirects: int = 5
    retries: int = 3  # further tries after a 429 or 5xx
    backoff: float = 1.0  # seconds before the first retry without Retry-After; doubled each time
    max_retry_after: float = 60.0  # a server asking for a longer wait is skipped with its reason, not waited for
    per_host: int = 2  # requests at a time to one host
    workers: int = 8  # requests at a time in all
    public_only: bool = False  # refuse hosts on this machine or a private network, at every redirect (the public chat)

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "max_page_mb"):
            value = getattr(self, name)
            if not _positive_number(value):
                raise ValueError(f"{name} must be a positive number, not {value!r}")

    @property
    def max_page_bytes(self) -> int:
        return int(self.max_page_mb * 1_000_000)


@dataclass(frozen=True)
class ChunkSettings:
    max_tokens: int = 0  # 0: the model's own limit (all-MiniLM-L6-v2: 256 word pieces)
    target_tokens: int = 200  # a chunk closes once it holds this many tokens
    overlap_tokens: int = 48  # trailing whole sentences carried into the next chunk, up to this many tokens


@dataclass(frozen=True)
class IndexSettings:
    vectors: str = "float32"  # "float32" or "float16": how FAISS stores vectors while the index is flat
    # Past this many vectors the index becomes IVF,SQfp16 (approximate; 0: always flat). Flat search
    # time grows with the index: ~12-16 ms at 50k, 23-46 ms at 100k here (bench/results/scale.md).
    approximate_above: int = 50_000


@dataclass(frozen=True)
class RetrievalSettings:
    candidates: int = 50  # depth of each retriever's list of candidates
    keyword_scored: int = 1000  # articles given a BM25 score (a candidate past these scores 0, near enough)
    fusion: str = "scores"  # "scores": each list's scores over its best, mixed; "rrf": reciprocal-rank fusion
    dense_weight: float = 0.5  # share of the dense retriever in the fused score (held-out title/subtitle queries)
    lead_weight: float = 0.5  # an article's dense score: best chunk's cosine + this times its lead chunk's
    rrf_k: int = 60  # reciprocal-rank-fusion constant (Cormack et al. 2009), for fusion="rrf"
    max_per_article: int = 2  # diversity: chunks of one article among the results

    def __post_init__(self) -> None:
        if self.fusion not in ("scores", "rrf"):
            raise ValueError(f"unknown fusion {self.fusion!r}; use 'scores' or 'rrf'")


@dataclass(frozen=True)
class AnswerSettings:
    passages: int = 6  # retrieved chunks the answer is drawn from
    max_sentences: int = 4
    # Each part of a compound question ("..., and ...?") may cite this many, so two parts may take 6 in all.
    part_sentences: int = 3
    rerank: int = 12  # sentences the cheap model shortlists for embedding (the cost of an answer)
    # Further sentences of the best article must score this share of the best's chance, and of other
    # articles this share. On the tune split, 0.7/0.9 -> 0.3/0.5 raised fully right 0.49 -> 0.59 (the reason or
    # second fact is often the second or third sentence) with citations in gold articles unchanged (0.89).
    # Over the 308-question tune split, 0.3/0.5 with 2 sentences a part -> 0.1/0.3 with 3 a part raised fully
    # right 0.614 -> 0.646 (two-article 0.23 -> 0.30), for answers of 118 words on average instead of 87: the
    # sentence that answers still often ranks second to fourth, so the answer keeps one more sentence.
    keep_within: float = 0.1
    keep_other_within: float = 0.3
    # Abstain when the best article mentions none of the names the question asks about (an answer about
    # something else). On the tune split: fully right unchanged (0.608), one more unanswerable caught, two
    # answerable ones lost ("US" asked, "United States" written).
    names_required: bool = True
    duplicate_similarity: float = 0.85  # sentences closer than this to a chosen one are left out

    def __post_init__(self) -> None:
        for name in ("passages", "max_sentences", "part_sentences", "rerank"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"answer setting {name} must be a whole number of at least 1, not {value!r}")
        for name in ("keep_within", "keep_other_within", "duplicate_similarity"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"answer setting {name} is a share of the best sentence's chance or a cosine: "
                                 f"a number from 0 to 1, not {value!r}")


ANSWERERS = ("extractive", "transformers:<HF id or local path>", "openai:<base_url>")


@dataclass(frozen=True)
class GenerationSettings:
    """Which answerer writes answers; for a generative one, its model, limits and how it is checked."""

    answerer: str = "extractive"  # or "transformers:<HF id or local path>" or "openai:<base_url>"
    model: str = ""  # openai: the model the server should run (Ollama: "llama3.2"); llama.cpp ignores it
    max_new_tokens: int = 300
    temperature: float = 0.0  # 0: greedy, the same answer each time
    context_tokens: int = 4096  # prompt + answer; a transformers model's own window caps it
    chars_per_token: float = 3.0  # openai: the server's tokenizer is unknown; English runs ~4 chars/token
    history_messages: int = 6  # earlier chat messages put in the prompt
    timeout: float = 60.0  # seconds for a whole answer, and for any one read from a server
    connect_timeout: float = 5.0
    stream: bool = True  # openai: ask for server-sent events
    device: str = "cpu"  # transformers: "cpu", "cuda", "mps"
    support_threshold: float = 0.30  # entailment a generated sentence needs from its cited article. On the tune split
    # of bench/generative.py --adversarial, 0.15 to 0.50 all catch 387 of 388 flips and remove no faithful rewording;
    # on the replay (bench/generative.py), 0.30 catches 1016 of 1043 unsupported sentences and 0.20 1012 (4 swapped
    # names score 0.20 to 0.30 with the judge retrained for names_permuted and quantifier_swapped), both removing 47
    # of 1255 supported ones


@dataclass(frozen=True)
class Settings:
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def manifest_dict(self) -> dict[str, Any]:
        """What an index records: all but `generation`, which belongs to whoever asks (and may
        name a private server), and `ingest` and `fetch`, which say what a build reads, not how it indexes."""
        return {k: v for k, v in self.to_dict().items() if k not in ("generation", "ingest", "fetch")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Read settings back from a manifest, ignoring keys this version does not know."""
        return _from_dict(cls, data)

    def built_with(self, stored: dict[str, Any]) -> Settings:
        """These settings, with the build-time parts (model, chunking, vectors) an index was made with.

        Retrieval and answer settings act at question time, so they stay this object's own.
        """
        stored_embedding = stored.get("embedding", {})
        if "backend" not in stored_embedding:  # an index from before backends was embedded by torch
            stored = {**stored, "embedding": {**stored_embedding, "backend": "torch"}}
        built = Settings.from_dict(stored)
        # The batch size is how this process embeds, not how the index was made: it stays this object's own.
        embedding = replace(built.embedding, batch_size=self.embedding.batch_size)
        return replace(self, embedding=embedding, chunking=built.chunking, index=built.index)

    def with_model(self, model: str | None) -> Settings:
        if not model:
            return self
        return replace(self, embedding=replace(self.embedding, model=model))

    def with_backend(self, backend: str | None) -> Settings:
        if not backend:
            return self
        return replace(self, embedding=replace(self.embedding, backend=backend))

    def with_max_file_mb(self, megabytes: float | None) -> Settings:
        if megabytes is None:
            return self
        return replace(self, ingest=IngestSettings(max_file_mb=megabytes))

    def with_answerer(self, answerer: str | None, model: str | None = None) -> Settings:
        """These settings with another answerer (and the model an OpenAI-compatible server should run)."""
        generation = self.generation
        if answerer:
            generation = replace(generation, answerer=answerer)
        if model:
            generation = replace(generation, model=model)
        return replace(self, generation=generation)


def _from_dict(cls: type, data: dict[str, Any]) -> Any:
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        kwargs[f.name] = _from_dict(type(default), value) if is_dataclass(default) else value
    return cls(**kwargs)


PRESETS: dict[str, Settings] = {
    "default": Settings(),
    # Half the vector bytes on disk; the committed demo index uses it.
    "compact": Settings(index=IndexSettings(vectors="float16")),
}


def preset(name: str) -> Settings:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
