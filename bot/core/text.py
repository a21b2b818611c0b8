"""Dutch text analysis shared by the lexical index and the extractive answerer: tokens, stems, stopwords."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH

__all__ = ["STOPWORDS", "terms"]

# Question words and fillers that say nothing about the topic, on top of the standard Dutch list.
STOPWORDS: frozenset[str] = frozenset(STOPWORDS_DUTCH) | {
    "wat", "wie", "welke", "welk", "waar", "wanneer", "waarom", "hoe", "hoeveel", "kan", "kun", "kunt",
    "mag", "moet", "moeten", "mijn", "onze", "ons", "jullie", "graag", "eigenlijk", "precies", "iets",
    "gaat", "doen", "doe", "worden", "wordt", "heeft", "hebben", "zijn", "is", "de", "het", "een",
}  # fmt: skip

_TOKEN = re.compile(r"\w\w+", re.UNICODE)
_stemmer = Stemmer.Stemmer("dutch")


@lru_cache(maxsize=65536)
def _stem(token: str) -> str:
    return str(_stemmer.stemWord(token))


def _fold(text: str) -> str:
    """Lower-case and strip accents, so "coördinator" and "coordinator" meet."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def terms(text: str) -> list[str]:
    """Stemmed content words of `text`, in order, stopwords removed."""
    return [_stem(tok) for tok in _TOKEN.findall(_fold(text)) if tok not in STOPWORDS]
