"""newsqa: ask questions of a pile of news articles and get answers that cite their sentences."""

__version__ = "0.1.0"

from .config import Settings, preset  # noqa: E402
from .indexing import BuildReport  # noqa: E402
from .answer.contract import Draft  # noqa: E402
from .qa import NewsQA  # noqa: E402
from .retrieve import Filters  # noqa: E402
from .storage import IndexIncompatible, IndexLocked, IndexNotFound, StoreError  # noqa: E402
from .types import Answer, Article, Chunk, Citation, Hit, Problem, Span  # noqa: E402

__all__ = [
    "Answer", "Article", "BuildReport", "Chunk", "Citation", "Draft", "Filters", "Hit", "IndexIncompatible",
    "IndexLocked", "IndexNotFound", "NewsQA", "Problem", "Settings", "Span", "StoreError", "preset", "__version__",
]
