"""Stop sequences for a model without its own: the text is cut before the first one."""

from __future__ import annotations

from routeur_grpc.providers.stop_text import StopText


def run(stops: list[str], pieces: list[str]) -> tuple[list[str], bool]:
    text = StopText(stops)
    sent = [text.feed(piece) for piece in pieces]
    sent.append(text.flush())
    return [piece for piece in sent if piece], text.stopped


def test_without_stop_sequences_every_piece_goes_through_at_once() -> None:
    assert run([], ["Hello", " world"]) == (["Hello", " world"], False)


def test_the_answer_ends_before_a_stop_sequence_inside_one_piece() -> None:
    assert run(["END"], ["one two END three"]) == (["one two "], True)


def test_a_stop_sequence_split_across_pieces_is_found() -> None:
    assert run(["\n\n"], ["first line\n", "\nsecond"]) == (["first line"], True)


def test_an_end_that_only_looked_like_a_stop_sequence_is_sent_with_the_next_piece() -> None:
    text = StopText(["STOP"])
    assert text.feed("go ST") == "go "
    assert text.feed("ART") == "START"
    assert not text.stopped


def test_text_held_back_at_the_end_of_generation_is_sent_by_flush() -> None:
    assert run(["STOP"], ["almost ST"]) == (["almost ", "ST"], False)


def test_the_earliest_of_several_stop_sequences_wins() -> None:
    assert run(["b", "a"], ["xxaxxb"]) == (["xx"], True)


def test_nothing_is_sent_after_a_stop() -> None:
    text = StopText(["."])
    assert text.feed("One. Two.") == "One"
    assert text.feed("three") == ""
    assert text.flush() == ""
