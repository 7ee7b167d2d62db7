"""Reading a chat model's meeting report: the JSON is found wherever the model put it."""

from __future__ import annotations

from routeur_grpc.domain.transcription import ActionItem
from routeur_grpc.services.meeting_report import parse_report


def test_a_clean_json_answer_is_read_whole():
    report = parse_report(
        '{"summary": "Budget review.", "decisions": ["Ship in May"], "action_items": '
        '[{"description": "Send the slides", "owner": "Alice", "due": "Friday"}]}',
        model="m",
    )
    assert report.summary == "Budget review."
    assert report.decisions == ("Ship in May",)
    assert report.action_items == (ActionItem("Send the slides", "Alice", "Friday"),)
    assert report.model == "m"


def test_json_in_prose_and_code_fences_is_found():
    answer = (
        'Here is the report:\n```json\n{"summary": "S", "decisions": [], '
        '"action_items": ["Call Bob"]}\n```\nHope it helps {not json}'
    )
    report = parse_report(answer)
    assert report.summary == "S"
    assert report.action_items == (ActionItem("Call Bob"),)


def test_wrong_types_are_read_as_empty_not_as_a_failure():
    report = parse_report('{"summary": 3, "decisions": "none", "action_items": [{"owner": "x"}]}')
    assert report.summary == "3"
    assert report.decisions == ()
    assert report.action_items == ()


def test_an_answer_without_json_becomes_the_summary():
    report = parse_report("The team agreed to meet again.")
    assert report.summary == "The team agreed to meet again."
    assert "Decisions" not in report.render()


def test_the_rendered_report_lists_owners():
    report = parse_report(
        '{"summary": "S", "decisions": ["D"], "action_items": [{"task": "T", "assignee": "Eve"}]}'
    )
    assert report.render() == "S\n\nDecisions:\n- D\n\nAction items:\n- T (Eve)"
