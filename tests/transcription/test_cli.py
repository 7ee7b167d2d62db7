"""`routeur-grpc transcribe`: the transcript on stdout, progress bars on stderr."""

from __future__ import annotations

import asyncio

from support import ADMIN_API_KEY

from routeur_grpc.cli import main

from .scripted_engine import SPOKEN_TEXT


async def run(*argv: str) -> int:
    return await asyncio.to_thread(main, ["transcribe", *argv, "--api-key", ADMIN_API_KEY])


async def test_transcribe_prints_the_transcript(stt_server, recordings, capsys):
    code = await run(str(recordings["mp3"]), "--language", "fr", "--address", stt_server.address)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == SPOKEN_TEXT
    assert "upload" in err and "fr" in err


async def test_transcribe_as_a_job_follows_it_to_the_end(stt_server, recordings, capsys):
    code = await run(str(recordings["wav"]), "--job", "--address", stt_server.address)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == SPOKEN_TEXT
    assert "queued" in err and "transcription" in err and "100" in err


async def test_a_meeting_prints_the_report_then_the_transcript(stt_server, recordings, capsys):
    code = await run(str(recordings["wav"]), "--meeting", "--address", stt_server.address)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip().endswith(f"---\n\n{SPOKEN_TEXT}")


async def test_a_refusal_is_printed_with_its_code(stt_server, tmp_path, capsys):
    text = tmp_path / "notes.mp3"
    text.write_text("not audio " * 100)
    code = await run(str(text), "--address", stt_server.address)
    _, err = capsys.readouterr()
    assert code == 1
    assert "INVALID_ARGUMENT" in err
