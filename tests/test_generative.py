"""Generative answers, verified: both real paths, with nothing downloaded.

The openai: path talks to a real HTTP server on 127.0.0.1 (bench/scripted_server.py)
that replays scripted completions, streamed and not. The transformers: path runs a
tiny randomly initialised Llama built here, with the bundled MiniLM tokenizer given
a chat template: its output is noise, and verification must remove all of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT

from newsqa import NewsQA, Settings
from newsqa.answer.prompt import conversation, fit, sources_of
from newsqa.answer.verify import claims, missing_facts
from newsqa.types import Answer

sys.path.insert(0, str(ROOT / "bench"))
from scripted_server import Reply, ScriptedServer

QUESTION = "Why did the US sanction Turkey?"
# Entailed by the article, which says "due to the purchase of Russian S-400 by Ankara" (verification checks each word:
# "the Russian S-400 air defense system" takes "air defense" from another sentence and is removed)
S1 = "The United States imposed sanctions on Turkey because Ankara bought the Russian S-400"
S2 = "Washington imposed the sanctions on December 14"
FAITHFUL = S1 + " [{n}]. " + S2 + " [{n}]."


@pytest.fixture(scope="module")
def index(small_index: Path) -> Path:
    return small_index


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


@pytest.fixture(scope="module")
def numbers(index: Path) -> dict[str, int]:
    """Article id -> its number in the prompt for QUESTION (the generative answerer retrieves the same passages)."""
    passages = NewsQA.open(index).ask(QUESTION).passages
    return {s.hits[0].article_id: s.number for s in sources_of(passages)}


@pytest.fixture
def sample(numbers: dict[str, int]) -> int:
    return next(n for article, n in numbers.items() if article not in ("oil-output", "brexit-letter", "italy-quake"))


def generative(index: Path, server: ScriptedServer, **generation: object) -> NewsQA:
    settings = Settings()
    settings = replace(settings, generation=replace(settings.generation, **generation))
    return NewsQA.open(index, settings=settings, answerer=f"openai:{server.url}", answer_model="m")


def quotes_are_exact(qa: NewsQA, answer: Answer) -> None:
    for c in answer.citations:
        article = qa.article(c.article_id)
        assert article is not None and article.text[c.start:c.end] == c.quote
        assert article.text[c.context_start:c.context_start + len(c.context)] == c.context
        assert f"[{c.number}]" in answer.text


# ------------------------------------------------------------------ openai: a real HTTP server


@pytest.mark.parametrize("stream", [True, False])
def test_faithful_answer_is_kept_whole(index: Path, server: ScriptedServer, sample: int, stream: bool) -> None:
    qa = generative(index, server, stream=stream)
    server.script(FAITHFUL.format(n=sample))
    events = list(qa.ask_stream(QUESTION))
    answer = events[-1]
    assert isinstance(answer, Answer) and all(isinstance(e, str) for e in events[:-1])
    assert "".join(events[:-1]) == FAITHFUL.format(n=sample)  # the draft, as the model wrote it
    if stream:
        assert len(events) > 3  # piece by piece, not all at once
    assert answer.answerer == "openai (m)"
    assert answer.unsupported == [] and answer.notice == "" and not answer.abstained
    assert "Ankara bought the Russian S-400" in answer.text and "December 14" in answer.text
    assert answer.text.count("[1]") == 2  # renumbered: the one cited article is [1]
    assert answer.citations and {c.number for c in answer.citations} == {1}
    assert any("December 14" in c.quote for c in answer.citations)
    quotes_are_exact(qa, answer)
    request = server.requests[-1]
    assert request["model"] == "m" and request["stream"] is stream and request["path"] == "/v1/chat/completions"
    prompt = request["messages"][-1]["content"]
    assert f"[{sample}] " in prompt and "29 December 2020" in prompt and "Question: " + QUESTION in prompt
    assert "Al Jazeera, 24 August 2016" in prompt or "BBC, 29 March 2017" in prompt  # outlets and dates
    assert request["messages"][0]["role"] == "system" and "only" in request["messages"][0]["content"]


def test_invented_number_removes_that_sentence(index: Path, server: ScriptedServer, sample: int) -> None:
    qa = generative(index, server)
    server.script(FAITHFUL.format(n=sample).replace("December 14", "December 19"))
    answer = qa.ask(QUESTION)
    assert answer.answerer == "openai (m)"
    assert "S-400" in answer.text and "December 19" not in answer.text
    assert [u.text for u in answer.unsupported] == ["Washington imposed the sanctions on December 19."]
    assert "a number the support lacks" in answer.unsupported[0].reason  # "19": not what the article states
    assert "1 sentence of the generated answer was removed" in answer.notice
    quotes_are_exact(qa, answer)


def test_swapped_name_and_uncited_claims_are_removed(index: Path, server: ScriptedServer, sample: int) -> None:
    qa = generative(index, server)
    server.script(FAITHFUL.format(n=sample) + f" Stoltenberg was replaced by Mark Rutte in December [{sample}]."
                  " Turkey has always been a loyal ally.")
    answer = qa.ask(QUESTION)
    reasons = {u.text: u.reason for u in answer.unsupported}
    assert reasons["Turkey has always been a loyal ally."] == "cites no passage"
    assert len(answer.unsupported) == 2 and "Rutte" not in answer.text
    assert answer.text.count("[1]") == 2


def test_marker_to_a_passage_not_given(index: Path, server: ScriptedServer, sample: int) -> None:
    qa = generative(index, server)
    server.script(f"{S1} [{sample}][9]. {S2} [12].")
    answer = qa.ask(QUESTION)
    assert "[9]" not in answer.text and "[12]" not in answer.text
    assert "Ankara bought the Russian S-400. [1]" in answer.text  # [9] dropped, sentence kept
    assert [u.reason for u in answer.unsupported] == ["cites [12], which the model was not given"]


@pytest.mark.parametrize("reply, message", [
    (Reply(body="<html>Bad gateway</html>"), "sent a malformed response (not JSON)"),
    (Reply(body=json.dumps({"id": "x", "object": "chat.completion"})), "no choices[0].message"),
    (Reply(status=503, text="model is loading"), "failed with a server error (HTTP 503)"),
])
def test_bad_responses_fall_back_with_a_clear_message(index: Path, server: ScriptedServer, reply: Reply,
                                                      message: str) -> None:
    qa = generative(index, server, stream=False)
    server.script(reply)
    answer = qa.ask(QUESTION)
    assert answer.answerer.startswith("extractive (fallback: openai (m) ")
    assert message in answer.answerer and message in answer.notice
    assert not answer.abstained and "S-400" in answer.text and answer.citations  # the extractive answer
    quotes_are_exact(qa, answer)


def test_garbled_output_falls_back(index: Path, server: ScriptedServer) -> None:
    qa = generative(index, server)
    server.script("zxq 7a @@ ## ~~ lorem ipsum [x] ] [ .. ,,")
    answer = qa.ask(QUESTION)
    assert "gave no supported sentence" in answer.answerer and answer.generated.startswith("zxq")
    assert answer.unsupported and "S-400" in answer.text


def test_slow_server_times_out_and_falls_back(index: Path, server: ScriptedServer, sample: int) -> None:
    qa = generative(index, server, timeout=1.0)
    server.script(Reply(FAITHFUL.format(n=sample), delay=4))
    started = time.perf_counter()
    answer = qa.ask(QUESTION)
    assert time.perf_counter() - started < 4
    assert "did not answer within 1 s" in answer.answerer and "extractive answer" in answer.notice
    assert "S-400" in answer.text


def test_server_down_falls_back(index: Path) -> None:
    qa = NewsQA.open(index, answerer="openai:http://127.0.0.1:9/v1")
    answer = qa.ask(QUESTION)
    assert "could not be reached" in answer.answerer and "S-400" in answer.text


def test_saying_not_covered(index: Path, server: ScriptedServer) -> None:
    qa = generative(index, server)
    server.script("The articles do not cover this.", "The articles do not cover this.")
    answered = qa.ask(QUESTION)  # the extractive answerer finds an answer: it is given instead
    assert "said the articles do not cover it" in answered.answerer and "S-400" in answered.text
    unanswerable = qa.ask("Who won the 2016 Super Bowl?")  # both agree: an abstention, by the model
    assert unanswerable.abstained and unanswerable.answerer == "openai (m)"
    assert unanswerable.unsupported == [] and "don't" in unanswerable.text


def test_api_key_and_conversation(index: Path, server: ScriptedServer, sample: int,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSQA_API_KEY", "sk-test")
    qa = generative(index, server)
    server.script(FAITHFUL.format(n=sample))
    history = [{"role": "user", "content": "What did NATO say about the S-400?"},
               {"role": "assistant", "content": "It poses a threat to allied aircraft. [1]"}]
    qa.ask("And why did the US sanction Turkey?", history=history)
    request = server.requests[-1]
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    roles = [m["role"] for m in request["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert request["messages"][2]["content"] == "It poses a threat to allied aircraft."  # old markers removed


def test_prompt_fits_the_context_budget(index: Path, server: ScriptedServer, sample: int) -> None:
    qa = generative(index, server, context_tokens=900, max_new_tokens=300)
    server.script(FAITHFUL.format(n=sample))
    answer = qa.ask(QUESTION)
    prompt = server.requests[-1]["messages"]
    chars = sum(len(m["content"]) for m in prompt)
    assert chars / 3 + 8 * len(prompt) <= 600  # within the estimate's budget
    assert f"[{sample}] " in prompt[-1]["content"]  # the best passage stayed
    assert prompt[-1]["content"].count("\n\n[") < len(sources_of(answer.passages))  # lower-ranked ones went
    assert answer.answerer == "openai (m)"


def test_cli_ask_with_openai_answerer(index: Path, server: ScriptedServer, sample: int) -> None:
    server.script(FAITHFUL.format(n=sample).replace("December 14", "December 19"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "newsqa.cli", "ask", QUESTION, "--index", str(index),
                           "--answerer", f"openai:{server.url}", "--model", "m", "--json"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["answerer"] == "openai (m)" and data["removed"] == 1
    assert data["unsupported"][0]["text"] == "Washington imposed the sanctions on December 19."
    assert "was removed" in done.stderr
    bad = subprocess.run([sys.executable, "-m", "newsqa.cli", "ask", QUESTION, "--index", str(index),
                          "--answerer", "gpt-4"], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert bad.returncode == 2 and "unknown answerer" in bad.stderr


def test_chat_streams_the_draft_then_shows_the_verified_answer(index: Path, server: ScriptedServer,
                                                               sample: int) -> None:
    from newsqa.ui import ChatApp

    app = ChatApp(generative(index, server))
    server.script(FAITHFUL.format(n=sample).replace("December 14", "December 19"))
    states = [(history[-1]["content"], cards) for history, cards, *_ in
              app.respond(QUESTION, [], None, None, None, None)]
    drafts = [text.split("\n\n(draft:")[0] for text, _ in states[1:-1] if "(draft:" in text]
    assert len(drafts) > 3 and drafts[-1] == FAITHFUL.format(n=sample).replace("December 14", "December 19")
    final, cards = states[-1]
    assert "December 19" not in final and "[1]" in final and "was removed" in final
    assert "Removed from the generated answer (1)" in cards and "December 19" in cards


# ------------------------------------------------------------------ transformers: a tiny random model


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from newsqa.embedding import resolve_model

    path = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("all-MiniLM-L6-v2"))  # a BERT word-piece tokenizer
    tokenizer.chat_template = ("{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }}\n{% endfor %}"
                               "{% if add_generation_prompt %}<assistant> {% endif %}")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.sep_token_id,
                         bos_token_id=tokenizer.cls_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_tiny_random_model_is_verified_away(index: Path, tiny_model: Path) -> None:
    settings = Settings()
    settings = replace(settings, generation=replace(settings.generation, max_new_tokens=40))
    qa = NewsQA.open(index, settings=settings, answerer=f"transformers:{tiny_model}")
    events = list(qa.ask_stream(QUESTION))
    answer = events[-1]
    assert isinstance(answer, Answer)
    draft = "".join(e for e in events[:-1] if isinstance(e, str))
    assert draft.strip() and answer.generated == draft  # it did generate, streamed
    assert answer.answerer == f"extractive (fallback: transformers ({tiny_model.name}) gave no supported sentence)"
    assert answer.unsupported and "S-400" in answer.text  # all noise removed; the extractive answer instead
    quotes_are_exact(qa, answer)


def test_transformers_prompt_is_counted_with_its_tokenizer(index: Path, tiny_model: Path) -> None:
    from newsqa.answer.chat import load_chat_model

    settings = Settings().with_answerer(f"transformers:{tiny_model}")
    generation = replace(settings.generation, context_tokens=700, max_new_tokens=100)
    model = load_chat_model(generation)
    assert model.budget == 600  # min(1024, context_tokens) less the answer's room
    hits = NewsQA.open(index).search(QUESTION, k=6)
    prompt, sources = fit(QUESTION, [], hits, 4, model.count, model.budget)
    assert model.count(prompt) <= 600 < model.count(fit(QUESTION, [], hits, 4, model.count, 10**6)[0])
    assert 1 <= len(sources) < len(sources_of(hits))
    assert sources[0].hits[0].article_id == hits[0].article_id  # the best passage is kept


def test_unknown_answerer_is_refused(index: Path) -> None:
    for bad in ("gpt-4", "openai:", "transformers"):
        with pytest.raises(ValueError, match="unknown answerer"):
            NewsQA.open(index, answerer=bad)


# ------------------------------------------------------------------ parsing and fact checks


def test_claims_take_markers_in_any_usual_form() -> None:
    text = ("<think>The user wants...</think>**Answer:**\n- Turkey bought S-400s. [1] The US imposed sanctions [1, 2].\n"
            "2. It happened in 2020 [Passage 3][4].")
    got = [(c.text, c.cited) for c in claims(text)]
    assert got == [("Answer:", []), ("Turkey bought S-400s.", [1]), ("The US imposed sanctions.", [1, 2]),
                   ("It happened in 2020.", [3, 4])]


def test_facts_must_occur_in_the_cited_text(index: Path) -> None:
    hits = NewsQA.open(index).search("Italy earthquake Amatrice", k=2)
    sources = sources_of(hits[:1])
    common = {"officials", "president"}
    assert missing_facts("At least 120 people were killed in Amatrice.", sources, common) == []
    assert missing_facts("At least 300 people were killed in Amatrice.", sources, common) == ["300"]
    assert missing_facts("At least 120 people were killed in Naples.", sources, common) == ["Naples"]
    assert missing_facts("Officials said Al Jazeera reported it on 24 August 2016.", sources, common) == []


def test_conversation_is_plain_alternating_turns() -> None:
    history = [{"role": "assistant", "content": "Welcome"}, {"role": "user", "content": "Q1"},
               {"role": "assistant", "content": [{"type": "text", "text": "A1 [1]"}]}, {"role": "user", "content": "Q2"}]
    assert conversation(history, 6) == [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}]
    assert conversation(history, 0) == []
