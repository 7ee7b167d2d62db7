"""OpenAI shapes to the domain and back, without the transport."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import json_format
from routeur.v1 import openai_compat_service_pb2 as pb

from routeur_grpc.api import openai_compat_convert as convert
from routeur_grpc.domain.completion import (
    CompletionChunk,
    CompletionMetadata,
    CompletionResult,
    TokenUsage,
    ToolCall,
    ToolChoice,
)
from routeur_grpc.errors import InvalidArgument, Unavailable


def _request(**fields: object) -> pb.StreamChatCompletionRequest:
    return json_format.ParseDict(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields},
        pb.StreamChatCompletionRequest(),
    )


def test_the_last_message_is_the_new_one_and_the_others_its_history():
    request = convert.chat_request(
        _request(
            messages=[
                {"role": "developer", "content": "be brief"},
                {
                    "role": "assistant",
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                },
                {"role": "user", "content": "now"},
            ],
            max_tokens=5,
            max_completion_tokens=7,
            temperature=0.5,
        )
    )
    assert request.message == "now"
    assert [(turn.role, turn.content) for turn in request.history] == [
        ("system", "be brief"),
        ("assistant", "ab"),
    ]
    assert request.max_tokens == 7 and request.temperature == 0.5


@pytest.mark.parametrize(
    ("stop", "expected"),
    [("END", ("END",)), (["a", "b"], ("a", "b")), (None, ()), ([], ())],
)
def test_stop_is_one_text_or_a_list_of_texts(stop, expected):
    fields = {} if stop is None else {"stop": stop}
    assert convert.chat_request(_request(**fields)).sampling.stop == expected


def test_openais_sampling_parameters_reach_the_domain_request():
    sampling = convert.chat_request(
        _request(top_p=0.3, seed="12", presence_penalty=1, frequency_penalty=-1)
    ).sampling
    assert (sampling.top_p, sampling.seed) == (0.3, 12)
    assert (sampling.presence_penalty, sampling.frequency_penalty) == (1, -1)
    assert convert.chat_request(_request()).sampling.given() == []


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"messages": []}, "empty"),
        ({"messages": [{"role": "assistant", "content": "x"}]}, "user"),
        ({"n": 2}, "n=1"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "not text"),
        ({"messages": [{"role": "user", "content": 3}]}, "string"),
        ({"stop": 3}, "`stop` must be a string or a list of strings"),
        ({"stop": ["a", 1]}, "`stop` must be a string or a list of strings"),
        ({"tool_choice": "sometimes"}, "`tool_choice` must be"),
        ({"tool_choice": {"type": "function"}}, "`tool_choice` must be"),
        ({"tools": [{"type": "retrieval", "function": {"name": "f"}}]}, "only `function` tools"),
        ({"messages": [{"role": "user", "content": "x", "tool_calls": [
            {"id": "c", "function": {"name": "f"}}]}]}, "only the assistant calls tools"),
        ({"messages": [{"role": "assistant", "content": None, "tool_calls": [
            {"function": {"name": "f"}}]}, {"role": "user", "content": "x"}]}, "needs an `id`"),
    ],
)
def test_requests_routeur_cannot_honour_are_refused(fields, words):
    with pytest.raises(InvalidArgument, match=words):
        convert.chat_request(_request(**fields))


def test_a_stream_becomes_openai_chunks_with_usage_last():
    encoder = convert.ChatChunkEncoder(
        _request(stream_options={"include_usage": True}, max_tokens=3)
    )
    label = CompletionMetadata(model="served")
    done = CompletionMetadata(model="served", usage=TokenUsage(4, 3))
    chunks = [
        *encoder.encode(CompletionChunk(content="a", metadata=label)),
        *encoder.encode(CompletionChunk(content="b", metadata=label)),
        *encoder.encode(CompletionChunk(done=True, metadata=done)),
    ]
    as_json = [
        json_format.MessageToDict(chunk, preserving_proto_field_name=True) for chunk in chunks
    ]
    assert as_json[0]["choices"][0]["delta"] == {"role": "assistant", "content": "a"}
    assert as_json[1]["choices"][0]["delta"] == {"content": "b"}
    assert as_json[2]["choices"][0]["finish_reason"] == "length"  # max_tokens reached
    assert as_json[3]["usage"] == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}
    assert {chunk["model"] for chunk in as_json} == {"served"}
    assert len({chunk["id"] for chunk in as_json}) == 1


def test_a_failure_after_the_first_chunk_is_an_openai_error_chunk():
    encoder = convert.ChatChunkEncoder(_request())
    list(encoder.encode(CompletionChunk(content="a")))
    failure = Unavailable("provider went away", reason="UPSTREAM_UNAVAILABLE")
    (last,) = encoder.encode(CompletionChunk(done=True, error=failure))
    assert last.error.message == "provider went away"
    assert last.error.type == "server_error"
    assert last.error.code == "UPSTREAM_UNAVAILABLE"
    assert not last.choices


def test_error_types_follow_the_grpc_code():
    error = convert.openai_error(InvalidArgument("bad"))
    assert error.type == "invalid_request_error"
    assert convert._ERROR_TYPES[grpc.StatusCode.RESOURCE_EXHAUSTED] == "rate_limit_exceeded"


CALL = {"id": "call_1", "type": "function", "function": {"name": "clock", "arguments": "{}"}}


def test_after_the_models_calls_the_tools_results_are_the_end_of_the_history():
    request = convert.chat_request(
        _request(
            messages=[
                {"role": "user", "content": "What time is it?"},
                {"role": "assistant", "content": None, "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "call_1", "content": "noon"},
            ],
            tools=[{"type": "function", "function": {"name": "clock", "parameters": {
                "type": "object", "properties": {"zone": {"type": "string", "maxLength": 40}}}}}],
        )
    )
    assert request.message == ""
    user, assistant, result = request.history
    assert assistant.tool_calls == (ToolCall("call_1", "clock", "{}"),)
    assert (result.role, result.tool_call_id, result.name) == ("tool", "call_1", "clock")
    (tool,) = request.tools
    # Struct numbers are floats: integers are given back as integers.
    assert tool.parameters["properties"]["zone"]["maxLength"] == 40
    assert isinstance(tool.parameters["properties"]["zone"]["maxLength"], int)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", ToolChoice()),
        ("none", ToolChoice("none")),
        ("required", ToolChoice("required")),
        ({"type": "function", "function": {"name": "clock"}}, ToolChoice("required", "clock")),
    ],
)
def test_tool_choice_takes_openais_four_forms(choice, expected):
    assert convert.chat_request(_request(tool_choice=choice)).tool_choice == expected


def test_the_models_calls_end_the_choice_with_finish_reason_tool_calls():
    call = ToolCall("call_9", "clock", '{"zone": "UTC"}')
    result = CompletionResult(
        response="", model="m", agent="", usage=TokenUsage(3, 4),
        metadata=CompletionMetadata(model="m"), tool_calls=(call,),
    )
    whole = convert.chat_completion(result, completion_id="c", created=1, max_tokens=None)
    assert whole.choices[0].finish_reason == "tool_calls"
    message = json_format.MessageToDict(whole.choices[0].message, preserving_proto_field_name=True)
    assert message["tool_calls"] == [
        {"id": "call_9", "type": "function",
         "function": {"name": "clock", "arguments": '{"zone": "UTC"}'}}
    ]
    encoder = convert.ChatChunkEncoder(_request())
    pieces = [
        *encoder.encode(CompletionChunk(tool_calls=(call, call))),
        *encoder.encode(CompletionChunk(done=True, metadata=CompletionMetadata(model="m"))),
    ]
    first, last = (json_format.MessageToDict(piece) for piece in pieces)
    assert [c["index"] for c in first["choices"][0]["delta"]["toolCalls"]] == [0, 1]
    assert first["choices"][0]["delta"]["role"] == "assistant"
    assert last["choices"][0]["finishReason"] == "tool_calls"
