"""Verification catches meaning flips: each class of flip of a made-up article's sentences is removed, and
faithful rewordings (reordered, passive, shortened, merged) are kept, from any sentence of the cited article."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from newsqa import NewsQA, Settings
from newsqa.answer.prompt import Source
from newsqa.answer.verify import verify
from newsqa.entail import entailment, explain

THRESHOLD = Settings().generation.support_threshold
ARTICLE = """---
title: Harbour city council votes on bridge and port deal
source: Example Gazette
url: https://example.org/harbour-bridge
published: 2017-03-02
---
The city council of Porthaven approved the new bridge on Tuesday after a long debate.

Mayor Elena Brandt opposed the plan because the budget was already stretched.

The port authority may raise its fees next year to pay for the repairs.

Councillor Tom Reyes criticised Brandt for delaying the vote.

Only one of the three contractors has submitted a bid so far.

The council threatened to cancel the contract with Norvik Shipping.

Unemployment in the region fell to 6 percent in 2016, the lowest level in a decade.

Residents did not support the toll, a survey by the local paper found.

Officials said the bridge would open in 2019 if construction starts this summer.

The harbour was first dredged in 1904, when the fishing fleet still dominated the town.

Local shops expect more visitors once the ferry terminal is rebuilt.

A second survey found that most residents want a cycle lane on the bridge.

Fishermen only want the old quay repaired, the union said.

The Harbour Trust is the owner of the Kelby Ferry Line, which runs the night boats, and is the landlord of the market.

Porthaven and Kelby signed a ferry agreement in March.
"""

FLIPS = [
    ("negation added", "Residents did not support the toll, a survey by the local paper found.",
     "The city council of Porthaven did not approve the new bridge on Tuesday."),
    ("negation removed", "Residents did not support the toll, a survey by the local paper found.",
     "Residents supported the toll, a survey by the local paper found."),
    ("role swap", "Councillor Tom Reyes criticised Brandt for delaying the vote.",
     "Councillor Elena Brandt criticised Reyes for delaying the vote."),
    ("antonym", "Unemployment in the region fell to 6 percent in 2016, the lowest level in a decade.",
     "Unemployment in the region rose to 6 percent in 2016, the lowest level in a decade."),
    ("modality", "The port authority may raise its fees next year to pay for the repairs.",
     "The port authority raised its fees to pay for the repairs."),
    ("wrong cause", "Mayor Elena Brandt opposed the plan because the budget was already stretched.",
     "Mayor Elena Brandt opposed the plan because the fishing fleet still dominated the town."),
    ("quantifier", "Only one of the three contractors has submitted a bid so far.",
     "All of the three contractors have submitted a bid so far."),
    ("outcome", "The council threatened to cancel the contract with Norvik Shipping.",
     "The council cancelled the contract with Norvik Shipping."),
    ("wrong date", "Unemployment in the region fell to 6 percent in 2016, the lowest level in a decade.",
     "Unemployment in the region fell to 6 percent in 2014, the lowest level in a decade."),
    ("quantifier swapped", "Fishermen only want the old quay repaired, the union said.",
     "Fishermen also want the old quay repaired, the union said."),
    ("roles swapped, each clause right alone",  # verify judges the clauses apart when the whole fails
     "The Harbour Trust is the owner of the Kelby Ferry Line, which runs the night boats, and is the landlord of "
     "the market.",
     "The Kelby Ferry Line is the owner of the Harbour Trust, which runs the night boats, and is the landlord of "
     "the market."),
    ("wrong year", "Officials said the bridge would open in 2019 if construction starts this summer.",
     "Officials said the bridge would open in 2018 if construction starts this summer."),
]
FAITHFUL = [
    ("reordered", "The city council of Porthaven approved the new bridge on Tuesday after a long debate.",
     "On Tuesday, after a long debate, the new bridge was approved by Porthaven's city council."),
    ("attribution first", "Residents did not support the toll, a survey by the local paper found.",
     "A survey by the local paper found that residents did not support the toll."),
    ("shortened", "Unemployment in the region fell to 6 percent in 2016, the lowest level in a decade.",
     "Unemployment in the region fell to 6 percent in 2016."),
    ("hedge kept", "The port authority may raise its fees next year to pay for the repairs.",
     "To pay for the repairs, the port authority may raise its fees next year."),
    ("names joined by 'and' swapped", "Porthaven and Kelby signed a ferry agreement in March.",
     "Kelby and Porthaven signed a ferry agreement in March."),
    ("reworded", "A second survey found that most residents want a cycle lane on the bridge.",
     "Most residents want a cycle lane on the bridge, a second survey found."),
]


@pytest.mark.parametrize("kind, support, claim", FLIPS, ids=[f[0] for f in FLIPS])
def test_each_kind_of_flip_is_not_entailed(kind: str, support: str, claim: str) -> None:
    assert entailment(support, claim) < THRESHOLD, explain(support, claim)


@pytest.mark.parametrize("kind, support, claim", FAITHFUL, ids=[f[0] for f in FAITHFUL])
def test_faithful_rewordings_are_entailed(kind: str, support: str, claim: str) -> None:
    assert entailment(support, claim) >= THRESHOLD, explain(support, claim)


def test_a_sentence_entails_itself_and_not_an_unrelated_one() -> None:
    sentence = "The council threatened to cancel the contract with Norvik Shipping."
    assert entailment(sentence, sentence) > 0.5
    assert entailment(sentence, "Local shops expect more visitors once the ferry terminal is rebuilt.") < THRESHOLD


def test_explanation_names_what_differs() -> None:
    assert explain("Residents did not support the toll.", "Residents supported the toll.") == "a negation differs"
    assert "cause" in explain("Mayor Elena Brandt opposed the plan because the budget was already stretched.",
                              "Mayor Elena Brandt opposed the plan because the fishing fleet still dominated the town.")


@pytest.fixture(scope="module")
def harbour(tmp_path_factory: pytest.TempPathFactory) -> NewsQA:
    folder = tmp_path_factory.mktemp("harbour")
    (folder / "harbour.md").write_text(ARTICLE, encoding="utf-8")
    (folder / "other.md").write_text(ARTICLE.replace("harbour-bridge", "other").replace(
        "Harbour city council votes on bridge and port deal", "Port fees rise again"), encoding="utf-8")
    NewsQA.build([folder / "harbour.md"], folder / "index")
    return NewsQA.open(folder / "index")


def _cited(qa: NewsQA, question: str) -> list[Source]:
    hits = qa.search(question, k=1)
    assert hits, question
    return [Source(1, hits[:1])]


def test_verify_removes_every_flip_and_keeps_faithful_sentences(harbour: NewsQA) -> None:
    sources = _cited(harbour, "Did the council approve the bridge?")
    flips = [claim for _, _, claim in FLIPS]
    faithful = [claim for _, _, claim in FAITHFUL]
    text = " ".join(f"{claim.rstrip('.')} [1]." for claim in flips + faithful)
    verdict = verify(text, sources, harbour.reader, THRESHOLD)
    removed = {u.text: u.reason for u in verdict.unsupported}
    assert set(removed) == set(flips), {c: removed.get(c, "kept") for c in flips + faithful}
    assert "2018 not in the cited text" in removed[FLIPS[-1][2]] or "a number" in removed[FLIPS[-1][2]]
    assert "not entailed" in removed[FLIPS[0][2]] and "negation" in removed[FLIPS[0][2]]
    assert verdict.kept == len(faithful)
    article = harbour.article(verdict.citations[0].article_id)
    assert article is not None
    assert all(article.text[c.start:c.end] == c.quote for c in verdict.citations)


def test_any_sentence_of_the_cited_article_may_support_a_claim(harbour: NewsQA) -> None:
    hit = _cited(harbour, "Did the council approve the bridge?")[0].hits[0]
    end = hit.text.index("The port authority")  # the passage retrieved: the first two sentences only
    sources = [Source(1, [replace(hit, text=hit.text[:end], end=hit.start + end)])]
    claim = "Most residents want a cycle lane on the bridge, a second survey found."
    verdict = verify(f"{claim} [1].", sources, harbour.reader, THRESHOLD)
    assert verdict.kept == 1 and verdict.unsupported == []
    assert "cycle lane" in verdict.citations[0].quote


def test_a_merged_sentence_is_supported_by_two_adjacent_sentences(harbour: NewsQA) -> None:
    sources = _cited(harbour, "What did the council do about the bridge?")
    claim = ("The council threatened to cancel the contract with Norvik Shipping, and unemployment in the region "
             "fell to 6 percent in 2016.")
    verdict = verify(f"{claim} [1].", sources, harbour.reader, THRESHOLD)
    assert verdict.kept == 1, verdict.unsupported
    assert len(verdict.citations) == 2


def test_a_cause_from_another_sentence_is_not_supported_by_joining_them(harbour: NewsQA) -> None:
    sources = _cited(harbour, "Why did the mayor oppose the plan?")
    claim = "Councillor Tom Reyes criticised Brandt because the council threatened to cancel the contract."
    verdict = verify(f"{claim} [1].", sources, harbour.reader, THRESHOLD)
    assert verdict.kept == 0 and "cause" in verdict.unsupported[0].reason


def test_the_judge_weights_ship_in_the_package() -> None:
    import tomllib

    from conftest import ROOT

    from newsqa.entail import WEIGHTS

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["newsqa"]
    assert WEIGHTS.resolve() in {p.resolve() for pattern in patterns for p in (ROOT / "src" / "newsqa").glob(pattern)}


def test_adversarial_benchmark_reports_each_class_and_faithful_removals(small_index: Path, tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    from conftest import ROOT

    sentence = ("Earlier in December, Stoltenberg admitted that he regrets the sanctions against Turkey, which were "
                "introduced by the United States due to the purchase of Russian S-400 by Ankara.")
    rows = [("Earlier in December, Stoltenberg denied that he regrets the sanctions against Turkey.", "antonym"),
            ("Stoltenberg said earlier in December that he regrets the sanctions against Turkey.", "faithful:reordered")]
    article_id = NewsQA.open(small_index).search("Stoltenberg regrets the sanctions against Turkey", k=1)[0].article_id
    items = [{"claim": claim, "article_id": article_id, "source": "s400:4", "sentence": sentence,
              "class": kind, "faithful": kind.startswith("faithful"), "split": split}
             for split in ("tune", "test") for claim, kind in rows]
    data = tmp_path / "set.jsonl"
    data.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NEWSQA_BENCH_RESULTS": str(tmp_path)}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "generative.py"), "--adversarial", "--index",
                           str(small_index), "--set", str(data)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| antonym | 1 | 1 | 1.000 |" in done.stdout
    assert "| faithful (wrongly removed) | 1 | 0 | 0.000 |" in done.stdout
    assert "ms per answer of 5 sentences" in done.stdout and "Threshold sweep" in done.stdout
    assert (tmp_path / "generative-adversarial.md").exists()
