"""Cheap, deterministic checks of an answer, for V2's self-check.

A model call to judge every answer would double the cost of every plain completion (V2 is
the default), so V2 first runs these checks, which cost nothing, and asks for a revision
only when one fails: an empty answer, an answer stuck repeating itself, or an answer in
another language than the question (when both are clearly identified and the question does
not ask for a translation).
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# The commonest function words of each language: enough to tell them apart on a sentence.
_STOPWORDS: dict[str, frozenset[str]] = {
    "fr": frozenset(
        "le la les un une des du de et est sont que qui dans pour pas sur au aux avec ce cette "
        "ces il elle nous vous ils je tu mais ou où donc car ne se sa son ses leur leurs très "
        "comment quelle quel quoi pourquoi été être avoir fait"
        .split()
    ),
    "en": frozenset(
        "the a an and is are was were that which who in for not on with this these it he she "
        "we you they i but or so of to be have has had do does what how why very from"
        .split()
    ),
    "es": frozenset(
        "el la los las un una y es son que quien en para no con este esta estos por pero o "
        "muy como qué cómo del al lo se su sus"
        .split()
    ),
    "de": frozenset(
        "der die das ein eine und ist sind dass wer in für nicht auf mit dieser diese es er "
        "sie wir ihr ich aber oder sehr wie was warum von zu haben hat"
        .split()
    ),
    "it": frozenset(
        "il lo la gli le un una e è sono che chi in per non su con questo questa questi ma o "
        "molto come cosa perché del della di da"
        .split()
    ),
}

LANGUAGE_NAMES = {"fr": "French", "en": "English", "es": "Spanish", "de": "German", "it": "Italian"}

# Questions that ask for another language make a language mismatch expected.
_TRANSLATION_HINTS = re.compile(
    r"tradu|translat|übersetz|in (english|french|spanish|german|italian)|"
    r"en (anglais|français|espagnol|allemand|italien)",
    re.IGNORECASE,
)

MIN_HITS = 3  # stopwords needed before a language is called
REPEATED_LINE_LIMIT = 3  # the same line this many times is a loop


def detect_language(text: str) -> str | None:
    """The language of `text` when it is clear (`fr`, `en`, …), else None."""
    words = [w.casefold() for w in _WORD.findall(text)]
    scores = Counter(
        {lang: sum(word in stop for word in words) for lang, stop in _STOPWORDS.items()}
    )
    ranked = scores.most_common(2)
    (best, hits), (_, runner_up) = ranked[0], ranked[1]
    if hits >= MIN_HITS and hits >= 2 * runner_up:
        return best
    return None


def check_answer(question: str, answer: str) -> str | None:
    """Why the answer needs a revision (a short phrase), or None when it passes."""
    if not answer.strip():
        return "empty"
    lines = [line.strip() for line in re.split(r"[\n.!?]+", answer) if len(line.strip()) >= 12]
    if lines and Counter(lines).most_common(1)[0][1] >= REPEATED_LINE_LIMIT:
        return "repetitive"
    asked = detect_language(question)
    if asked is not None and not _TRANSLATION_HINTS.search(question):
        answered = detect_language(answer)
        if answered is not None and answered != asked:
            return f"wrong language ({answered}, asked in {asked})"
    return None
