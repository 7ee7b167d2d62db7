"""AnalysisService over gRPC, against a fake OpenAI upstream that answers as a model would:
clean JSON, JSON in a code fence wrapped in prose, almost-JSON, or something unusable.

An unusable first answer is asked again once, with the problem explained; a second unusable
answer is the model's fault (UNAVAILABLE, `MODEL_OUTPUT_INVALID`), never the caller's.
Analyses are saved for their owner, listed page by page, and deleted. Runs on both stores.
"""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
from fakes import FakeOpenAI
from openai_backed import MODEL, recorded_usage
from routeur.v1 import analysis_service_pb2 as pb
from routeur.v1 import analysis_service_pb2_grpc as pb_grpc
from support import RunningServer, error_info

from routeur_grpc.domain.caller import Caller
from routeur_grpc.errors import NotFound

TEXT = "Marie Curie won the Nobel Prize in Paris in 1911. It was a wonderful day."

ANALYSIS = {
    "summary": "Marie Curie won the Nobel Prize in 1911.",
    "sentiment": "positive",
    "language": "en",
    "keywords": ["Marie Curie", "Nobel Prize"],
    "entities": [
        {"text": "Marie Curie", "type": "person"},
        {"text": "Paris", "type": "location"},
    ],
}


def stub(channel: grpc.aio.Channel) -> pb_grpc.AnalysisServiceStub:
    return pb_grpc.AnalysisServiceStub(channel)


async def analyze(channel: grpc.aio.Channel, **fields: str) -> pb.Analysis:
    response = await stub(channel).AnalyzeText(
        pb.AnalyzeTextRequest(text=fields.pop("text", TEXT), **fields), timeout=30
    )
    return response.analysis


def chat_requests(fake: FakeOpenAI) -> list[dict]:
    return [r.json() for r in fake.requests_to("/chat/completions")]


async def test_a_clean_json_answer_becomes_a_saved_analysis(
    analysis_channel: grpc.aio.Channel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply_next(json.dumps(ANALYSIS))
    analysis = await analyze(analysis_channel)
    assert analysis.analysis_id
    assert analysis.text == TEXT
    assert analysis.model == MODEL
    assert analysis.summary == ANALYSIS["summary"]
    assert analysis.sentiment == "positive"
    assert analysis.language == "en"
    assert list(analysis.keywords) == ["Marie Curie", "Nobel Prize"]
    assert [(e.text, e.type) for e in analysis.entities] == [
        ("Marie Curie", "person"), ("Paris", "location")
    ]
    assert analysis.result["summary"] == ANALYSIS["summary"]
    assert analysis.metadata.usage.input_tokens == FakeOpenAI.prompt_tokens
    assert analysis.metadata.usage.output_tokens > 0
    assert analysis.metadata.pricing.total_cost > 0
    assert analysis.created_at.seconds > 0
    # The model was asked for JSON, with the text as the user's message.
    (request,) = chat_requests(fake_openai)
    assert request["messages"][0]["role"] == "system"
    assert "JSON" in request["messages"][0]["content"]
    assert request["messages"][-1] == {"role": "user", "content": TEXT}

    saved = await stub(analysis_channel).GetAnalysis(
        pb.GetAnalysisRequest(analysis_id=analysis.analysis_id)
    )
    assert saved.analysis == analysis


@pytest.mark.parametrize(
    "answer",
    [
        "Sure! Here is the analysis:\n```json\n" + json.dumps(ANALYSIS, indent=2)
        + "\n```\nLet me know if you need more.",
        "The analysis is " + json.dumps(ANALYSIS) + " as requested.",
        (
            "{'summary': 'Marie Curie won the Nobel Prize in 1911.', 'sentiment': 'Positive', "
            "'language': 'EN', 'keywords': ['Marie Curie', 'Nobel Prize',], "
            "'entities': ['Marie Curie', {'name': 'Paris', 'type': 'place'},],}"
        ),
    ],
    ids=["fenced-with-prose", "inline-with-prose", "single-quotes-trailing-commas"],
)
async def test_json_is_found_and_repaired_without_asking_again(
    analysis_channel: grpc.aio.Channel, fake_openai: FakeOpenAI, answer: str
) -> None:
    fake_openai.reply_next(answer)
    analysis = await analyze(analysis_channel)
    assert analysis.summary == ANALYSIS["summary"]
    assert (analysis.sentiment, analysis.language) == ("positive", "en")
    assert list(analysis.keywords) == ["Marie Curie", "Nobel Prize"]
    assert [e.text for e in analysis.entities] == ["Marie Curie", "Paris"]
    assert len(chat_requests(fake_openai)) == 1


async def test_an_invalid_answer_is_asked_again_with_the_problem_and_both_calls_are_billed(
    analysis_channel: grpc.aio.Channel, fake_openai: FakeOpenAI
) -> None:
    wrong = {**ANALYSIS, "sentiment": "ecstatic"}
    del wrong["language"]
    fake_openai.reply_next(json.dumps(wrong), json.dumps(ANALYSIS))
    analysis = await analyze(analysis_channel)
    assert analysis.sentiment == "positive"
    first, second = chat_requests(fake_openai)
    # The second call carries the first exchange and says what was wrong with it.
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert second["messages"][len(first["messages"])]["role"] == "assistant"
    correction = second["messages"][-1]["content"]
    assert "`sentiment`" in correction and "`language`" in correction
    # Both calls are in the accounting.
    assert analysis.metadata.usage.input_tokens == 2 * FakeOpenAI.prompt_tokens
    by_model = analysis.metadata.usage_by_model[MODEL]
    assert by_model.total_tokens == analysis.metadata.usage.total_tokens
    assert analysis.metadata.pricing.total_cost == pytest.approx(
        analysis.metadata.pricing.by_model[MODEL].total
    )


async def test_two_invalid_answers_are_the_models_fault_not_the_callers(
    analysis_server: RunningServer, analysis_channel: grpc.aio.Channel, fake_openai: FakeOpenAI
) -> None:
    before = await stub(analysis_channel).ListAnalyses(pb.ListAnalysesRequest(page_size=1000))
    fake_openai.reply_next("I cannot analyse this text.", "Still no JSON, sorry.")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await analyze(analysis_channel)
    error = raised.value
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(error).reason == "MODEL_OUTPUT_INVALID"
    assert MODEL in error.details() and "two attempts" in error.details()
    assert "Traceback" not in error.details()
    assert len(chat_requests(fake_openai)) == 2
    after = await stub(analysis_channel).ListAnalyses(pb.ListAnalysesRequest(page_size=1000))
    assert len(after.analyses) == len(before.analyses)  # nothing saved


async def test_an_upstream_failure_is_unavailable(
    analysis_channel: grpc.aio.Channel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.fail_next(500)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await analyze(analysis_channel)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    ("fields", "named"),
    [({"text": "  "}, "`text`"), ({"instructions": "x" * 5000}, "`instructions`")],
    ids=["empty-text", "long-instructions"],
)
async def test_a_bad_request_is_invalid_argument_naming_the_field(
    analysis_channel: grpc.aio.Channel, fake_openai: FakeOpenAI, fields: dict, named: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await analyze(analysis_channel, **fields)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert named in raised.value.details()
    assert not chat_requests(fake_openai)


async def test_instructions_reach_the_model_and_extra_keys_are_kept(
    analysis_channel: grpc.aio.Channel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply_next(json.dumps({**ANALYSIS, "people": ["Marie Curie"]}))
    analysis = await analyze(analysis_channel, instructions="Add a `people` list.")
    assert list(analysis.result["people"]) == ["Marie Curie"]
    (request,) = chat_requests(fake_openai)
    assert "Add a `people` list." in request["messages"][0]["content"]


async def test_analyses_are_listed_newest_first_page_by_page_and_deleted(
    analysis_channel: grpc.aio.Channel, fake_openai: FakeOpenAI
) -> None:
    made = []
    for number in range(3):
        fake_openai.reply_next(json.dumps({**ANALYSIS, "summary": f"Summary {number}."}))
        made.append((await analyze(analysis_channel, text=f"Text {number}")).analysis_id)
    seen: list[str] = []
    token = ""
    while True:
        page = await stub(analysis_channel).ListAnalyses(
            pb.ListAnalysesRequest(page_size=2, page_token=token)
        )
        assert len(page.analyses) <= 2
        seen += [a.analysis_id for a in page.analyses]
        token = page.next_page_token
        if not token:
            break
    assert seen[:3] == made[::-1]

    await stub(analysis_channel).DeleteAnalysis(pb.DeleteAnalysisRequest(analysis_id=made[0]))
    for call in (
        stub(analysis_channel).GetAnalysis(pb.GetAnalysisRequest(analysis_id=made[0])),
        stub(analysis_channel).DeleteAnalysis(pb.DeleteAnalysisRequest(analysis_id=made[0])),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_bad_page_token_is_invalid_argument(analysis_channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub(analysis_channel).ListAnalyses(pb.ListAnalysesRequest(page_token="nope"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_another_owner_sees_none_of_them(
    analysis_server: RunningServer, analysis_channel: grpc.aio.Channel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reply_next(json.dumps(ANALYSIS))
    mine = await analyze(analysis_channel)
    service = analysis_server.server.app.analyses
    stranger = Caller(owner_id="someone-else", request_id="test")
    with pytest.raises(NotFound):
        await service.get(stranger, mine.analysis_id)
    with pytest.raises(NotFound):
        await service.delete(stranger, mine.analysis_id)
    assert (await service.list(stranger, 0, "")).items == ()
    saved = await stub(analysis_channel).GetAnalysis(
        pb.GetAnalysisRequest(analysis_id=mine.analysis_id)
    )
    assert saved.analysis.analysis_id == mine.analysis_id  # still there for its owner


async def test_usage_is_recorded_for_every_model_call(
    analysis_server: RunningServer, analysis_channel: grpc.aio.Channel, fake_openai: FakeOpenAI
) -> None:
    before = await recorded_usage(analysis_server)
    fake_openai.reply_next("not json", json.dumps(ANALYSIS))
    await analyze(analysis_channel)
    for _ in range(200):  # usage is written in the background
        after = await recorded_usage(analysis_server)
        if after[0] >= before[0] + 2:
            break
        await asyncio.sleep(0.02)
    assert after == (before[0] + 2, before[1] + 2 * FakeOpenAI.prompt_tokens)
