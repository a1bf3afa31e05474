"""newsqa: ask questions of a pile of news articles and get answers that cite their sentences."""

__version__ = "0.1.0"

from .config import Settings, preset  # noqa: E402
from .indexing import BuildReport  # noqa: E402
from .qa import NewsQA  # noqa: E402
from .store import IndexIncompatible, IndexLocked, IndexNotFound, StoreError  # noqa: E402
from .types import Article, Chunk, Hit, Problem, Span  # noqa: E402

__all__ = [
    "Article", "BuildReport", "Chunk", "Hit", "IndexIncompatible", "IndexLocked", "IndexNotFound",
    "NewsQA", "Problem", "Settings", "Span", "StoreError", "preset", "__version__",
]
