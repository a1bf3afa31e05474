"""The embedding model run by onnxruntime: exported once with `torch.onnx.export`, optionally int8-quantized.

`OnnxEncoder.load(st_model, backend)` returns an encoder that gives the same vectors as
`SentenceTransformer.encode(..., normalize_embeddings=True)` (to within quantization error):
the transformer runs in onnxruntime, mean (or CLS) pooling and L2 normalization in numpy.

The exported graph is cached under `$NEWSQA_CACHE/onnx/` (default ~/.cache/newsqa/onnx/),
keyed by a digest of the weights and the versions of torch, transformers, onnx and
onnxruntime, so it is made once per model and machine. Files appear by atomic rename,
under a file lock, so two processes never read a half-written model.

Backends:
  onnx       float32 graph: the torch vectors to ~1e-6, little faster than torch
  onnx-int8  MatMul weights quantized to int8 per output channel, activations quantized
             per batch at run time (onnxruntime `quantize_dynamic`): the default
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

ONNX_BACKENDS = ("onnx", "onnx-int8")
RECIPE = 1  # bump when the export or quantization recipe changes: cached graphs are remade

log = logging.getLogger(__name__)


class ExportError(RuntimeError):
    """This model cannot run on onnxruntime here (an unsupported architecture or a missing package)."""


def cores() -> int:
    """CPU cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class OnnxEncoder:
    """Encodes one batch of texts to normalized float32 vectors with onnxruntime."""

    def __init__(self, path: Path, tokenizer: Any, max_tokens: int, pooling: str, input_names: list[str]) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = cores()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        # Idle threads sleep instead of spinning: on 2 cores shared with other work (the chat server,
        # other processes) spinning measured 20% slower, and it burns a core between questions.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.pooling = pooling
        self.input_names = input_names

    @classmethod
    def load(cls, st_model: Any, backend: str) -> OnnxEncoder:
        """The encoder for a loaded SentenceTransformer, exporting (and caching) its graph on first use.
        Raises ExportError when the model's structure or this environment does not allow it."""
        if backend not in ONNX_BACKENDS:
            raise ValueError(f"unknown ONNX backend {backend!r}; choose one of: {', '.join(ONNX_BACKENDS)}")
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise ExportError(f"onnxruntime is not installed ({exc})") from exc
        transformer, pooling = _supported_parts(st_model)
        input_names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                       if n in st_model.tokenizer.model_input_names or n == "attention_mask"]
        path = cached_graph(transformer, st_model.tokenizer, input_names, backend)
        return cls(path, st_model.tokenizer, int(st_model.max_seq_length), pooling, input_names)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors for one batch (pad to its longest text, so callers sort by length)."""
        enc = self.tokenizer([t.strip() for t in texts], padding=True, truncation=True,
                             max_length=self.max_tokens, return_tensors="np")
        feeds = {name: np.asarray(enc[name], dtype=np.int64) for name in self.input_names}
        hidden = self.session.run(None, feeds)[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = feeds["attention_mask"].astype(np.float32)
            pooled = np.einsum("bld,bl->bd", hidden, mask) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _supported_parts(st_model: Any) -> tuple[Any, str]:
    """The Hugging Face transformer and pooling mode of a plain Transformer + Pooling [+ Normalize] model."""
    modules = list(st_model)
    names = [type(m).__name__ for m in modules]
    if len(modules) not in (2, 3) or names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]):
        raise ExportError(f"only Transformer + Pooling [+ Normalize] models are exported; this one is {names}")
    pooling = getattr(modules[1], "pooling_mode", None)
    if pooling not in ("mean", "cls"):
        raise ExportError(f"pooling mode {pooling!r} is not supported by the ONNX backend (mean or cls only)")
    transformer = getattr(modules[0], "auto_model", None)
    if transformer is None:
        raise ExportError("the Transformer module has no auto_model to export")
    return transformer, pooling


def _versions() -> str:
    parts = []
    for name in ("torch", "transformers", "onnx", "onnxruntime"):
        try:
            parts.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name}=none")
    return ";".join(parts)


def graph_key(transformer: Any, input_names: list[str], backend: str) -> str:
    """A digest of what the cached graph depends on: the weights, the inputs, the versions, the recipe."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{RECIPE};{backend};{','.join(input_names)};{_versions()}".encode())
    digest.update(transformer.config.to_json_string().encode())
    for name, tensor in transformer.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def cached_graph(transformer: Any, tokenizer: Any, input_names: list[str], backend: str) -> Path:
    """The path of the ONNX graph for `backend`, exported and quantized now if not cached yet."""
    from filelock import FileLock

    from .corpora import cache_dir

    key = graph_key(transformer, input_names, backend)
    folder = cache_dir() / "onnx"
    target = folder / f"{getattr(transformer.config, 'model_type', 'model')}-{key}-{backend}.onnx"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if target.exists():  # another process made it while this one waited
            return target
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp:
            fp32 = Path(tmp) / "model.onnx"
            _export(transformer, tokenizer, input_names, fp32)
            made = fp32
            if backend == "onnx-int8":
                made = Path(tmp) / "model-int8.onnx"
                _quantize(fp32, made)
            os.replace(made, target)  # atomic: readers see no file or the whole file
        log.info("exported %s to %s in %.1f s", backend, target, time.perf_counter() - started)
    return target


def _export(transformer: Any, tokenizer: Any, input_names: list[str], path: Path) -> None:
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(input_names, inputs, strict=True))).last_hidden_state

    # Two lengths, so the traced graph takes the padded-batch path of the attention mask.
    sample = tokenizer(["The harbour reopened on Monday after the storm.", "Hello."], padding=True,
                       return_tensors="pt")
    inputs = {**sample, "token_type_ids": sample.get("token_type_ids", torch.zeros_like(sample["input_ids"]))}
    axes = {name: {0: "batch", 1: "tokens"} for name in [*input_names, "last_hidden_state"]}
    was_training = transformer.training
    transformer.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches
            torch.onnx.export(LastHiddenState(transformer), tuple(inputs[n] for n in input_names), str(path),
                              input_names=input_names, output_names=["last_hidden_state"], dynamic_axes=axes,
                              opset_version=17, dynamo=False)
    except Exception as exc:  # the exporter raises many types for unsupported models
        raise ExportError(f"torch.onnx.export failed: {type(exc).__name__}: {exc}") from exc
    finally:
        transformer.train(was_training)


def _quantize(source: Path, target: Path) -> None:
    """int8 weights for every MatMul with a constant weight, one scale per output channel (per-tensor
    scales lost too much: cosine to torch 0.95 on news chunks, per-channel 0.994)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs a pre-processing suggestion as a root warning
    try:
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                         per_channel=True, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    except Exception as exc:
        raise ExportError(f"onnxruntime quantize_dynamic failed: {type(exc).__name__}: {exc}") from exc
    finally:
        root.setLevel(level)
