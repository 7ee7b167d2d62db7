"""The transcription routes through Envoy, called as the CAPL Routeur IA API's clients call
them: curl's multipart forms, raw bodies, query strings, and jobs with Server-Sent Events."""

from __future__ import annotations

import json

import httpx

from .conftest import spool_files
from .scripted_engine import SPOKEN_TEXT


async def test_curl_form_upload(stt_rest: httpx.AsyncClient, recordings):
    # curl -X POST .../transcription -F "file=@audio.mp3"
    with recordings["mp3"].open("rb") as file:
        response = await stt_rest.post("/transcription", files={"file": ("audio.mp3", file)})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "text": SPOKEN_TEXT,
        "language": "en",
        "duration": response.json()["duration"],
        "model": "scripted-1",
    }


async def test_form_fields_after_the_file_are_honoured(stt_rest, recordings, engine):
    # curl -F "file=@audio.mp3" -F "language=fr": the field comes after the file part.
    body, content_type = _multipart(
        [
            ("file", "audio.wav", recordings["wav"].read_bytes()),
            ("language", None, b"fr"),
            ("prompt", None, "Contexte de la réunion".encode()),
        ]
    )
    response = await stt_rest.post(
        "/transcription", content=body, headers={"content-type": content_type}
    )
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "fr"
    assert engine.requests[-1].prompt == "Contexte de la réunion"


async def test_language_in_the_query_string(stt_rest, recordings):
    # curl -X POST ".../transcription?language=en" -F "file=@english_audio.wav"
    with recordings["wav"].open("rb") as file:
        response = await stt_rest.post(
            "/transcription", params={"language": "en"}, files={"file": ("english_audio.wav", file)}
        )
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "en"


async def test_a_raw_audio_body(stt_rest, recordings):
    response = await stt_rest.post(
        "/transcription",
        params={"language": "de"},
        content=recordings["webm"].read_bytes(),
        headers={"content-type": "audio/webm"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "de"


async def test_meeting_with_project_and_max_duration_fields(stt_rest, recordings):
    with recordings["mp3"].open("rb") as file:
        response = await stt_rest.post(
            "/transcription/meeting",
            data={"project_id": "proj-abc123", "max_duration_seconds": "3600"},
            files={"file": ("meeting_recording.mp3", file)},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["transcript"] == SPOKEN_TEXT
    assert body["text"].startswith(body["report"]["text"])
    assert body["project_id"] == "proj-abc123"
    assert body["report"]["text"]


async def test_supported_formats(stt_rest):
    response = await stt_rest.get("/transcription/supported-formats")
    assert response.status_code == 200
    body = response.json()
    assert body["supported_formats"] == ["mp3", "mp4", "mpeg", "mpga", "m4a", "wav", "webm"]
    assert body["max_file_size_mb"] == 1
    assert body["model"] == "scripted-1"


async def test_wrong_content_is_a_400_naming_the_problem(stt_rest, stt_server):
    response = await stt_rest.post(
        "/transcription", files={"file": ("audio.mp3", b"%PDF-1.4 not audio at all" * 40)}
    )
    assert response.status_code == 400
    assert "audio" in response.json()["message"]
    assert spool_files(stt_server) == []


async def test_an_upload_over_the_cap_is_a_429_early_and_leaves_nothing(stt_rest, stt_server):
    response = await stt_rest.post(
        "/transcription", content=bytes(3 * 1024 * 1024), headers={"content-type": "audio/wav"}
    )
    assert response.status_code == 429
    assert "1 MB" in response.json()["message"]
    assert spool_files(stt_server) == []


async def test_a_form_without_a_file_is_a_400(stt_rest):
    response = await stt_rest.post("/transcription", files={"language": (None, "fr")})
    assert response.status_code == 400
    assert "`file`" in response.json()["message"]


async def test_jobs_over_rest_with_sse_watch(stt_rest, recordings):
    # curl -X POST .../transcription/jobs -F file=@audio.mp3 -F language=fr -F prompt=...
    with recordings["mp3"].open("rb") as file:
        created = await stt_rest.post(
            "/transcription/jobs",
            data={"language": "fr", "prompt": "Contexte"},
            files={"file": ("audio.mp3", file)},
        )
    assert created.status_code == 200, created.text
    job = created.json()
    assert job["status"] == "queued"
    assert set(job) == {"job_id", "status", "created_at"}
    events = []
    async with stt_rest.stream("GET", f"/transcription/jobs/{job['job_id']}:watch") as stream:
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: "))["job"])
    assert events[-1]["status"] == "succeeded"
    status = (await stt_rest.get(f"/transcription/jobs/{job['job_id']}")).json()
    assert status["transcript_text"] == SPOKEN_TEXT
    assert status["transcript_language"] == "fr"
    assert status["progress_percent"] == 100
    listed = (await stt_rest.get("/transcription/jobs", params={"page_size": 1})).json()
    assert listed["jobs"][0]["job_id"] == job["job_id"]


async def test_meeting_jobs_and_cancel_over_rest(stt_rest, recordings):
    with recordings["wav"].open("rb") as file:
        created = await stt_rest.post(
            "/transcription/meeting/jobs", data={"project_id": "p"}, files={"file": ("m.wav", file)}
        )
    job_id = created.json()["job_id"]
    response = await stt_rest.post(f"/transcription/jobs/{job_id}:cancel", json={})
    assert response.status_code in (200, 400), response.text  # 400 if it already finished
    assert (await stt_rest.get(f"/transcription/jobs/{job_id}")).json()["job_type"] == (
        "transcription_meeting"
    )
    missing = await stt_rest.get("/transcription/jobs/unknown")
    assert missing.status_code == 404
    watched = await stt_rest.get("/transcription/jobs/unknown:watch")
    assert watched.status_code == 404


def _multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    boundary = "routeur-test-boundary"
    chunks = []
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        chunks.append(data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
