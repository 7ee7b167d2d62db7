"""Upload throughput of a large recording over gRPC and over REST (through Envoy), and the
server's peak memory while it receives it.

    .venv/bin/python bench/bench_upload.py [--mb 200] [--runs 2]

A WAV of `--mb` megabytes is made with ffmpeg (silence; the content does not matter), then
sent to a Routeur server running in its own process (so its memory can be read from
/proc), whose engine is the tests' scripted engine (no model: the time measured is the
upload, the spool to disk, ffprobe and the bookkeeping). Each way is timed from the first
byte sent to the answer:

- gRPC: `TranscribeAudio` client stream, 1 MiB chunks;
- REST raw: `POST /transcription` with the file as the body (httpx streams it from disk);
- REST multipart: `POST /transcription` with `-F file=@...` (python-multipart on the
  server side, streamed).

The server's resident memory (VmRSS) is sampled every 10 ms during each upload: the peak
is reported next to the idle baseline. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
from google.api import httpbody_pb2
from routeur.v1 import transcription_service_pb2 as pb
from routeur.v1 import transcription_service_pb2_grpc as pb_grpc

from routeur_grpc.gateway import EnvoyProcess, GatewayConfig

ROOT = Path(__file__).resolve().parents[1]
SERVER_SCRIPT = ROOT / "tests" / "transcription" / "serve_scripted.py"
CHUNK = 1024 * 1024
MB = 1024 * 1024


def make_wav(path: Path, megabytes: int) -> Path:
    seconds = megabytes * MB / 32_000  # 16 kHz, 16-bit mono
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=16000:cl=mono",
            "-t",
            f"{seconds:.0f}",
            "-c:a",
            "pcm_s16le",
            str(path),
        ],
        check=True,
    )
    return path


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakRss:
    """Samples a process's VmRSS in a thread while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRss:  # noqa: PYI034 - a plain class, not subclassed
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, rss_kb(self.pid))
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def grpc_requests(path: Path) -> Iterator[pb.TranscribeAudioRequest]:
    yield pb.TranscribeAudioRequest(file_name=path.name)
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            yield pb.TranscribeAudioRequest(audio=httpbody_pb2.HttpBody(data=chunk))


async def run(path: Path, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'generated'}"}
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is timed
        [sys.executable, str(SERVER_SCRIPT), str(work / "data"), "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.startswith("PORT "):
        raise SystemExit("the server did not start")
    address = f"127.0.0.1:{line.split()[1]}"
    envoy = EnvoyProcess(
        GatewayConfig(upstreams=(address,), rest_port=0, admin_port=0),
        concurrency=1,
        log_path=work / "envoy.log",
    )
    await envoy.start()
    size_mb = path.stat().st_size / MB
    results: dict[str, list[tuple[float, int]]] = {}
    try:
        channel = grpc.insecure_channel(
            address, options=[("grpc.max_send_message_length", 64 * MB)]
        )
        stub = pb_grpc.TranscriptionServiceStub(channel)
        rest = httpx.Client(base_url=envoy.rest_url, timeout=600)
        baseline_kb = rss_kb(server.pid)

        def via_grpc() -> None:
            stub.TranscribeAudio(grpc_requests(path), timeout=600)

        def via_rest_raw() -> None:
            with path.open("rb") as file:
                response = rest.post(
                    "/transcription", content=file, headers={"content-type": "audio/wav"}
                )
            response.raise_for_status()

        def via_rest_multipart() -> None:
            with path.open("rb") as file:
                response = rest.post("/transcription", files={"file": (path.name, file)})
            response.raise_for_status()

        ways = {
            "gRPC": via_grpc,
            "REST raw body": via_rest_raw,
            "REST multipart": via_rest_multipart,
        }
        for _ in range(runs):
            for label, call in ways.items():
                with PeakRss(server.pid) as peak:
                    started = time.perf_counter()
                    await asyncio.to_thread(call)
                    elapsed = time.perf_counter() - started
                results.setdefault(label, []).append((elapsed, peak.peak_kb))
        rest.close()
        channel.close()
    finally:
        await envoy.stop()
        server.kill()
        server.wait()

    print(
        f"{size_mb:.0f} MB WAV, {runs} run(s) each, {os.cpu_count()} cores; server idle RSS "
        f"{baseline_kb / 1024:.0f} MB"
    )
    for label, values in results.items():
        best = min(elapsed for elapsed, _ in values)
        peak = max(kb for _, kb in values)
        print(
            f"{label:<16} {size_mb / best:7.1f} MB/s (best of {len(values)}: {best:.2f} s)   "
            f"server peak RSS {peak / 1024:6.0f} MB (+{(peak - baseline_kb) / 1024:.0f} MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audio-") as folder:
        path = make_wav(Path(folder) / "large.wav", args.mb)
        asyncio.run(run(path, args.runs))


if __name__ == "__main__":
    main()
