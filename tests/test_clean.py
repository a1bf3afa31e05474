"""Page furniture is removed at ingestion and never removes the article's own sentences."""

from __future__ import annotations

import pytest

from newsqa.chunking import split_sentences
from newsqa.clean import clean_text, is_boilerplate, removed_spans
from newsqa.ingest import make_article
from newsqa.normalize import normalize_text


def sentences(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text)]


# (messy text, the text it must become): one case per kind of furniture, in the shapes the demo corpus has.
CASES = [
    pytest.param(
        "The gunman shot Karlov at the exhibition. READ MORE: Burhan Ozbilici captures Andrey Karlov's final moments "
        "\"Don't forget Aleppo!\" the gunman shouted.",
        "The gunman shot Karlov at the exhibition.\n\"Don't forget Aleppo!\" the gunman shouted.", id="read-more"),
    pytest.param(
        "Turkey reported dependence to the WHO. READ MORE: Egypt's wave of painkiller addiction In 2014, Egypt "
        "reported widespread dependence.",
        "Turkey reported dependence to the WHO.\nIn 2014, Egypt reported widespread dependence.", id="read-more-starter"),
    pytest.param(
        "The army retreated. WATCH: Will latest Iraqi offensive mean end of ISIL in Mosul? The presence of "
        "civilians poses a challenge.",
        "The army retreated.\nThe presence of civilians poses a challenge.", id="watch"),
    pytest.param(
        "Hogan spoke in Ballina this morning pic.twitter.com/ZxQgYkCf6S \" Pat McGrath (@patmcgrath) February 17, "
        "2017 While he would not be drawn on dates, Mr Hogan said he was confident.",
        "Hogan spoke in Ballina this morning\nWhile he would not be drawn on dates, Mr Hogan said he was confident.",
        id="tweet"),
    pytest.param(
        "Tanaiste says the error is staggering https://t.co/JlMhjALrBF pic.twitter.com/1F6e9ZXnTV \u2014 RTE News "
        "(@rtenews) March 24, 2017 In a statement, Ms Fitzgerald said she had raised the issues.",
        "Tanaiste says the error is staggering\nIn a statement, Ms Fitzgerald said she had raised the issues.",
        id="tweet-em-dash-and-t.co"),
    pytest.param(
        "We need to protect trans youth. A post shared by laverne cox (@lavernecox) on Feb 23, 2017 at 6:24am PST "
        "We need to act.",
        "We need to protect trans youth.\nWe need to act.", id="instagram"),
    pytest.param(
        "The group included writers and editors. Send Facebook Twitter Google+ Whatsapp Tumblr linkedin stumble Digg "
        "reddit Newsvine Permalink http://dw.com/p/2Yrul cmb/jm (dpa, AFP)",
        "The group included writers and editors.", id="dw-share-strip-and-initials"),
    pytest.param(
        "The court said a decision would come soon. (08.02.2017) Around 10,000 people protested in the UK.",
        "The court said a decision would come soon.\nAround 10,000 people protested in the UK.", id="dw-teaser-date"),
    pytest.param(
        "The most likely outcome is a coalition. - 21.22-Tied in second place are the Christian Democrats. "
        "21.10 Exit polls show Rutte's VVD leading.",
        "The most likely outcome is a coalition.\nTied in second place are the Christian Democrats.\n"
        "Exit polls show Rutte's VVD leading.", id="live-blog"),
    pytest.param(
        "By Tom Fordyce at the Aviva Stadium Share this with Media playback is not supported on this device Ireland "
        "ended England's run of victories.",
        "By Tom Fordyce at the Aviva Stadium\nIreland ended England's run of victories.", id="bbc"),
    pytest.param(
        "The rally takes place on Friday. Do you have information you want to share with the Huffington Post? "
        "Here's how. Share this slide: How will Trump's first 100 days impact you? Learn more",
        "The rally takes place on Friday.", id="huffpost"),
    pytest.param(
        "Check out the full segment above. Don't be the last to watch the viral video everyone is talking about. "
        "Learn more",
        "Check out the full segment above.", id="huffpost-blurb"),
    pytest.param(
        "There were about 5,000 recorded deaths in 2016. Source:-Al Jazeera and news agencies",
        "There were about 5,000 recorded deaths in 2016.", id="al-jazeera-source"),
    pytest.param(
        "Sales rose to 7.15 billion yuan. wuyiyao@chinadaily.com.cn (China Daily European Weekly 01/06/2017 page27)",
        "Sales rose to 7.15 billion yuan.", id="china-daily"),
    pytest.param(
        "Vats of rice wine fill the warehouses. Photos by Richard Whiddington / China daily One reaction has been a "
        "rice wine alcopop.",
        "Vats of rice wine fill the warehouses.\nOne reaction has been a rice wine alcopop.", id="photo-credit"),
    pytest.param(
        "A worker checks a furnace in Luoyang, Henan province. Huang Zhengwei / For China Daily After a reduction of "
        "33 million tons, output rose.",
        "A worker checks a furnace in Luoyang, Henan province.\nAfter a reduction of 33 million tons, output rose.",
        id="china-daily-caption-credit"),
]


@pytest.mark.parametrize(("messy", "clean"), CASES)
def test_page_furniture_is_removed_and_the_sentences_around_it_kept_apart(messy: str, clean: str) -> None:
    assert clean_text(messy) == clean
    assert not any(is_boilerplate(s) for s in sentences(clean))


@pytest.mark.parametrize(("messy", "clean"), CASES)
def test_every_messy_case_has_a_sentence_the_predicate_flags(messy: str, clean: str) -> None:
    assert any(is_boilerplate(s) for s in sentences(messy))


PROSE = [
    "He urged readers to read more about the plan before the vote.",
    "Watch what they do, not what they say, she said.",
    "The train left at 21.10 and arrived in Utrecht an hour later.",
    "The minister said she would share this with her cabinet colleagues.",
    "Source: the finance ministry said growth was 2.1 percent.",
    "The account @rtenews posted the video on March 24, 2017 after the crash.",
    "Visitors can learn more at the museum's website.",
    "Police said 12 people were arrested (AP).",
    "When China Daily met her recently, she was calm.",
    "Provided to China Daily readers, the survey drew 5,000 replies.",
]


@pytest.mark.parametrize("sentence", PROSE)
def test_article_prose_that_resembles_furniture_is_kept_and_not_flagged(sentence: str) -> None:
    assert clean_text(sentence) == sentence
    assert not is_boilerplate(sentence)


def test_an_unclear_headline_end_removes_only_the_label_never_the_article_sentence() -> None:
    # No word here can only open a sentence: where the headline ends is unknown, so the words stay.
    text = ("The aid was barred from Sittwe. READ MORE: UN: Rohingya may be victims of crimes against humanity "
            "Al Jazeera's Yaara Bou Melhem, reporting from Yangon, said the aid will be unloaded there.")
    cleaned = clean_text(text)
    assert "READ MORE" not in cleaned
    assert "Al Jazeera's Yaara Bou Melhem, reporting from Yangon, said the aid will be unloaded there." in cleaned


def test_a_quote_inside_a_sentence_does_not_end_a_headline() -> None:
    text = ("They spoke by phone. READ MORE: From Obama to Trump - Lessons and challenges Turkish analysts told Al "
            "Jazeera that while the \"positive\" phone call was welcome, doubts remain.")
    assert "Turkish analysts told Al Jazeera that while the \"positive\" phone call" in clean_text(text)


def test_cleaning_is_idempotent_and_stable_under_normalization() -> None:
    for case in CASES:
        once = clean_text(case.values[0])
        assert clean_text(once) == once
        assert normalize_text(once) == once


def test_removed_spans_report_what_was_cut_with_its_context() -> None:
    spans = removed_spans("Sales rose. Source:-Al Jazeera")
    assert [(s.pattern, s.text, s.before) for s in spans] == [('"Source:-" credit', "Source:-Al Jazeera",
                                                                "Sales rose.")]


def test_make_article_stores_the_cleaned_text() -> None:
    article = make_article({"id": "7", "title": "Vote", "text": "The vote passed. Source:-News agencies"})
    assert (article.id, article.text) == ("7", "The vote passed.")


def test_text_that_is_only_furniture_is_an_empty_article() -> None:
    from newsqa.ingest import SkipRecord

    with pytest.raises(SkipRecord, match="empty article text"):
        make_article({"text": "Media playback is not supported on this device"})


def test_the_search_for_a_headline_end_stops_at_a_full_stop() -> None:
    text = ("Crimes were said to be falling. READ MORE: Central American mothers search for their missing sons "
            "Nationally, the picture is different. A 2016 report found more attacks.")
    assert "Nationally, the picture is different. A 2016 report found more attacks." in clean_text(text)
