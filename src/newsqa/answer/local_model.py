"""A chat model run here with transformers: a Hugging Face id or a local path, CPU or GPU.

The prompt is rendered with the model's own chat template and counted with its own
tokenizer. Generation runs in a thread that feeds a TextIteratorStreamer, so text
is handed on as it is produced; one generation runs at a time (the model and its
tokenizer are shared by every question).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from ..config import GenerationSettings
from .chat import GenerationError, logged_failure, public_name


class LocalModel:
    def __init__(self, target: str, settings: GenerationSettings) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = public_name(settings)
        self.settings = settings
        self.tokenizer = AutoTokenizer.from_pretrained(target)
        if not self.tokenizer.chat_template:
            raise ValueError(f"{target} has no chat template; use an instruction (chat) model")
        dtype = torch.float32 if settings.device == "cpu" else "auto"  # half precision is slow on most CPUs
        self.model = AutoModelForCausalLM.from_pretrained(target, dtype=dtype).to(settings.device).eval()
        window = getattr(self.model.config, "max_position_embeddings", None) or settings.context_tokens
        self.budget = min(window, settings.context_tokens) - settings.max_new_tokens
        pad = self.tokenizer.pad_token_id
        self._pad_id = pad if pad is not None else self.tokenizer.eos_token_id
        self._turn = threading.Lock()
        self._system_role = True  # cleared for templates that reject a system message

    def count(self, messages: list[dict[str, str]]) -> int:
        with self._turn:
            return int(self._encode(messages)["input_ids"].shape[-1])

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        s = self.settings
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        errors: list[BaseException] = []

        def generate() -> None:
            try:
                with self._turn:
                    inputs = self._encode(messages).to(self.model.device)
                    self.model.generate(
                        input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], streamer=streamer,
                        max_new_tokens=s.max_new_tokens, max_time=s.timeout, do_sample=s.temperature > 0,
                        **({"temperature": s.temperature} if s.temperature > 0 else {}),
                        pad_token_id=self._pad_id)
            except Exception as exc:  # noqa: BLE001 - handed to the caller below
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=generate, name="newsqa-generate", daemon=True)
        thread.start()
        yield from streamer
        thread.join()
        if errors:
            raise GenerationError(logged_failure(self.name, f"failed ({type(errors[0]).__name__})", errors[0]))

    def _encode(self, messages: list[dict[str, str]]) -> Any:
        if not self._system_role:
            messages = _without_system(messages)
        try:
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
        except Exception:  # some templates (Gemma's) raise on a system message: fold it into the first user turn
            if not self._system_role:
                raise
            self._system_role = False
            return self._encode(messages)


def _without_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system and rest:
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    return rest
