"""Lexical search, the same in every store: how text becomes terms, and BM25.

Both stores index the terms made here (SQLite's FTS5 gets them as its text; MongoDB keeps
them on each chunk), so a query matches the same chunks whichever store holds them. Terms
are case- and accent-folded words of two characters or more, without the commonest French
and English function words, with a plural `s`/`x` dropped: crude, language-agnostic
normalisation, enough for keyword retrieval.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

STOPWORDS = frozenset(
    # French
    "le la les un une des du de et est sont que qui quoi dans pour pas sur au aux avec ce "
    "cet cette ces il elle nous vous ils elles je tu mais ou donc car ne se sa son ses leur "
    "leurs tres comment quel quelle quels quelles pourquoi ete etre avoir fait en me te lui "
    "moi toi on y a as ai ont mon ma mes ton ta tes notre nos votre vos par plus"
    # English
    " the an and is are was were that which who whom in for not on with this these those "
    "it its he she we you they but or so of to be have has had do does did what how why "
    "very from at by as if into about me my your our their them"
    .split()
)

BM25_K1 = 1.2
BM25_B = 0.75


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """The searchable terms of `text`, in order (repeats kept)."""
    found: list[str] = []
    for raw in _WORD.findall(text):
        word = _fold(raw)
        if len(word) < 2 or word in STOPWORDS:
            continue
        if len(word) > 3 and word[-1] in "sx":
            word = word[:-1]
        found.append(word)
    return found


def query_terms(text: str, limit: int = 32) -> list[str]:
    """The distinct terms of a query, first ones first, at most `limit`."""
    return list(dict.fromkeys(terms(text)))[:limit]


def bm25_scores(
    query: Sequence[str],
    candidates: Sequence[Sequence[str]],
    *,
    corpus_size: int,
    average_length: float,
) -> list[float]:
    """BM25 score of each candidate (its terms) for `query`.

    `corpus_size` and `average_length` describe the whole collection searched; document
    frequencies are counted on `candidates`, which must be every chunk holding a query term.
    """
    counts = [Counter(candidate) for candidate in candidates]
    frequency = Counter(term for count in counts for term in set(query) if term in count)
    n = max(corpus_size, len(candidates))
    average = average_length or 1.0
    scores = []
    for candidate, count in zip(candidates, counts, strict=True):
        score = 0.0
        for term in set(query):
            tf = count.get(term, 0)
            if not tf:
                continue
            df = frequency[term]
            idf = math.log((n - df + 0.5) / (df + 0.5) + 1)
            norm = tf + BM25_K1 * (1 - BM25_B + BM25_B * len(candidate) / average)
            score += idf * tf * (BM25_K1 + 1) / norm
        scores.append(score)
    return scores
