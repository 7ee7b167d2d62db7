"""`routeur-grpc transcribe FILE`: upload a recording, show the progress, print the transcript.

    routeur-grpc transcribe meeting.mp3 --language fr
    routeur-grpc transcribe meeting.mp3 --meeting        # transcript + report
    routeur-grpc transcribe long.mp3 --job               # a background job, watched

The upload is streamed from the file in chunks (never read whole) with a progress bar
(tqdm) on stderr; with `--job`, a second bar follows the job's progress until it ends.
The transcript goes to stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
from google.api import httpbody_pb2
from routeur.v1 import transcription_service_pb2 as pb
from routeur.v1 import transcription_service_pb2_grpc as pb_grpc
from tqdm import tqdm

CHUNK_BYTES = 256 * 1024


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser = commands.add_parser("transcribe", help="transcribe an audio file")
    parser.add_argument("file", type=Path, help="mp3, mp4, mpeg, mpga, m4a, wav or webm")
    parser.add_argument("--language", default="", help="ISO-639-1 code (default: detect)")
    parser.add_argument("--model", default="", help="transcription model (default: server's)")
    parser.add_argument("--prompt", default="", help="names, jargon, context")
    parser.add_argument("--meeting", action="store_true", help="also write the meeting's report")
    parser.add_argument("--project-id", default="", help="project of the meeting")
    parser.add_argument("--job", action="store_true", help="run as a background job and watch it")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def transcribe(
    args: argparse.Namespace, address: str, credentials: tuple[tuple[str, str], ...] = ()
) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    options: dict[str, Any] = {
        "file_name": path.name,
        "language": args.language,
        "model": args.model,
        "prompt": args.prompt,
    }
    if args.meeting:
        options["project_id"] = args.project_id
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.TranscriptionServiceStub(channel)
        try:
            if args.job:
                return _job(stub, path, options, args, credentials)
            if args.meeting:
                meeting = stub.TranscribeMeeting(
                    _upload(path, pb.TranscribeMeetingRequest, options, args.no_progress),
                    timeout=args.timeout,
                    metadata=credentials,
                )
                print(meeting.text)
                return 0
            answer = stub.TranscribeAudio(
                _upload(path, pb.TranscribeAudioRequest, options, args.no_progress),
                timeout=args.timeout,
                    metadata=credentials,
            )
        except grpc.RpcError as error:
            code = error.code().name  # type: ignore[attr-defined]
            print(f"error: {code}: {error.details()}", file=sys.stderr)  # type: ignore[attr-defined]
            return 1
    print(answer.text)
    print(f"[{answer.model}, {answer.language}, {answer.duration:.1f} s]", file=sys.stderr)
    return 0


def _job(
    stub: pb_grpc.TranscriptionServiceStub,
    path: Path,
    options: dict[str, Any],
    args: argparse.Namespace,
    credentials: tuple[tuple[str, str], ...],
) -> int:
    if args.meeting:
        options["kind"] = "meeting"
    created = stub.CreateTranscriptionJob(
        _upload(path, pb.CreateTranscriptionJobRequest, options, args.no_progress),
        timeout=args.timeout,
        metadata=credentials,
    )
    print(f"job {created.job_id} queued", file=sys.stderr)
    job = pb.TranscriptionJob()
    with tqdm(
        total=100, desc="transcription", unit="%", file=sys.stderr, disable=args.no_progress
    ) as bar:
        for change in stub.WatchTranscriptionJob(
            pb.WatchTranscriptionJobRequest(job_id=created.job_id),
            timeout=args.timeout,
            metadata=credentials,
        ):
            job = change.job
            bar.set_postfix_str(job.status)
            bar.update(job.progress_percent - bar.n)
    if job.status != "succeeded":
        print(f"job {job.status}: {job.error}", file=sys.stderr)
        return 1
    print(job.transcript_text)
    print(
        f"[{job.transcript_model}, {job.transcript_language}, {job.transcript_duration:.1f} s]",
        file=sys.stderr,
    )
    return 0


def _upload(path: Path, message: type, options: dict[str, Any], quiet: bool) -> Iterator[Any]:
    """The client stream: the options, then the file in chunks, with an upload bar."""
    yield message(**options)
    with (
        tqdm(
            total=path.stat().st_size,
            desc="upload",
            unit="B",
            unit_scale=True,
            file=sys.stderr,
            disable=quiet,
        ) as bar,
        path.open("rb") as file,
    ):
        while chunk := file.read(CHUNK_BYTES):
            bar.update(len(chunk))
            yield message(audio=httpbody_pb2.HttpBody(data=chunk))
