"""The sliding prompt: the caller's prompt, then the end of the previous piece's text."""

from __future__ import annotations

from routeur_grpc.transcription.pieces import SLIDING_PROMPT_CHARS, sliding_prompt


def test_the_first_piece_gets_the_callers_prompt_only() -> None:
    assert sliding_prompt("Glossary: Routeur, Envoy.", "") == "Glossary: Routeur, Envoy."


def test_later_pieces_get_the_end_of_the_previous_text_cut_at_a_word() -> None:
    previous = " ".join(f"word{i}" for i in range(200))
    prompt = sliding_prompt("", previous)
    assert previous.endswith(prompt)
    assert len(prompt) <= SLIDING_PROMPT_CHARS
    assert prompt.split(" ")[0] in previous.split(" "), "no word is cut in half"


def test_the_callers_prompt_comes_first_and_the_previous_text_last() -> None:
    assert sliding_prompt("Names: Ana.", "  and then Ana said yes.  ") == (
        "Names: Ana. and then Ana said yes."
    )
    assert sliding_prompt("", "") == ""
