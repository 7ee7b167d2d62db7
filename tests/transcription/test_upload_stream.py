"""Reading an upload off the wire, without a server: options, raw bodies and multipart forms
cut anywhere into messages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from routeur.v1 import transcription_service_pb2 as pb

from routeur_grpc.api.upload_stream import IncomingUpload
from routeur_grpc.domain.transcription import UploadOptions
from routeur_grpc.errors import InvalidArgument

AUDIO = bytes(range(256)) * 40


async def messages(*items: pb.TranscribeAudioRequest) -> AsyncIterator[pb.TranscribeAudioRequest]:
    for item in items:
        yield item


def form(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data
        body += b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def cut(
    body: bytes, size: int, content_type: str, **first: object
) -> list[pb.TranscribeAudioRequest]:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    out = [
        pb.TranscribeAudioRequest(audio={"data": pieces[0], "content_type": content_type}, **first)
    ]
    return out + [pb.TranscribeAudioRequest(audio={"data": piece}) for piece in pieces[1:]]


async def read(upload: IncomingUpload) -> bytes:
    await upload.start()
    return b"".join([chunk async for chunk in upload.chunks()])


async def test_grpc_options_then_chunks():
    upload = IncomingUpload(
        messages(
            pb.TranscribeAudioRequest(file_name="a.wav", language="fr", prompt="p"),
            pb.TranscribeAudioRequest(audio={"data": AUDIO[:100]}),
            pb.TranscribeAudioRequest(audio={"data": AUDIO[100:]}),
        ),
        "audio",
    )
    assert await read(upload) == AUDIO
    assert upload.options() == UploadOptions(file_name="a.wav", language="fr", prompt="p")


@pytest.mark.parametrize("size", [1, 7, 64, 4096])
async def test_a_form_cut_anywhere_gives_the_file_and_the_fields(size):
    body = form(
        [
            ("model", None, b"m1"),
            ("file", "talk.mp3", AUDIO),
            ("language", None, b"en"),
            ("max_duration_seconds", None, b"60"),
            ("temperature", None, b"0.2"),
        ]
    )
    upload = IncomingUpload(
        messages(*cut(body, size, "multipart/form-data; boundary=b0undary", language="fr")), "audio"
    )
    assert await read(upload) == AUDIO
    options = upload.options()
    assert options.file_name == "talk.mp3"
    assert options.language == "en"  # the form field wins over the query string
    assert (options.model, options.max_duration_seconds, options.temperature) == ("m1", 60, 0.2)


async def test_query_string_fields_stay_when_the_form_does_not_set_them():
    body = form([("file", "a.wav", AUDIO)])
    upload = IncomingUpload(
        messages(*cut(body, 500, "multipart/form-data; boundary=b0undary", language="de")), "audio"
    )
    await read(upload)
    assert upload.options().language == "de"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (form([("language", None, b"fr")]), "no `file` field"),
        (form([("file", "a", AUDIO)])[:-20], "truncated"),
        (form([("file", "a", AUDIO), ("file", "b", AUDIO)]), "more than one"),
        (form([("file", "a", AUDIO), ("prompt", None, b"x" * 70_000)]), "longer than 64 KiB"),
    ],
)
async def test_bad_forms_are_the_callers_mistake(body, problem):
    upload = IncomingUpload(
        messages(*cut(body, 1000, "multipart/form-data; boundary=b0undary")), "audio"
    )
    with pytest.raises(InvalidArgument) as caught:
        await read(upload)
    assert problem in caught.value.message


async def test_a_number_field_that_is_not_a_number_is_named():
    body = form([("file", "a", AUDIO), ("max_duration_seconds", None, b"an hour")])
    upload = IncomingUpload(
        messages(*cut(body, 1000, "multipart/form-data; boundary=b0undary")), "audio"
    )
    await read(upload)
    with pytest.raises(InvalidArgument) as caught:
        upload.options()
    assert "max_duration_seconds" in caught.value.message


async def test_no_message_at_all_is_an_empty_upload():
    with pytest.raises(InvalidArgument):
        await IncomingUpload(messages(), "audio").start()
