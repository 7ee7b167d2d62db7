"""Realtime factor of the local speech-to-text engine on a 60 s recording in French and in
English, next to faster-whisper called directly on the same model files.

    .venv/bin/python bench/bench_transcription.py [--seconds 60] [--runs 1] [--quick]

The recordings are made with espeak-ng (then ffmpeg to 16 kHz WAV). Direct calls cover
beam search (5) and greedy decoding (1), each sequential and batched
(`BatchedInferencePipeline`), all int8 on the CPU. "engine" is Routeur's engine with its
default settings (model loaded once, decoding in a worker thread, progress per segment).
The realtime factor is audio seconds per second of wall time (higher is faster); on a
machine shared with other work, "cpu est." divides the process's CPU time by the threads
used instead, which estimates the factor of an idle machine. Word accuracy is the share of
the spoken words found in the transcript. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routeur_grpc.settings import Settings
from routeur_grpc.transcription.engine import TranscriptionRequest
from routeur_grpc.transcription.registry import local_engine_config

TEXTS = {
    "en": (
        ("en-us", 135),  # espeak-ng voice and words per minute: a little over 60 s
        (
            "Good morning everyone, and thank you for joining this meeting. Today we review "
            "the budget for the new project. The finance team will send the quarterly report "
            "before Friday, so please check the numbers and share your questions with the "
            "manager. We also need a plan for the training of new staff in March. Sarah will "
            "organise the sessions, and David will book the rooms on the second floor. The "
            "customer survey shows that most clients are happy with the service, but delivery "
            "times are still too long. Our goal is to reduce them by two days before the end "
            "of the year. The marketing department asked for a short video about the product, "
            "and the design team can start next week. Finally, remember that the office will "
            "be closed on Monday for maintenance. If there are no other questions, we can "
            "finish here and meet again next Thursday at ten o'clock."
        ),
    ),
    "fr": (
        ("fr", 120),
        (
            "Bonjour à tous et merci d'être présents à cette réunion. Aujourd'hui nous "
            "examinons le budget du nouveau projet. L'équipe financière enverra le rapport "
            "trimestriel avant vendredi, alors merci de vérifier les chiffres et de poser vos "
            "questions au responsable. Nous devons aussi préparer la formation des nouveaux "
            "collègues au mois de mars. Sophie organisera les séances et Pierre réservera les "
            "salles du deuxième étage. L'enquête auprès des clients montre que la plupart sont "
            "satisfaits du service, mais les délais de livraison restent trop longs. Notre "
            "objectif est de les réduire de deux jours avant la fin de l'année. Le service "
            "marketing a demandé une courte vidéo sur le produit, et l'équipe de conception "
            "peut commencer la semaine prochaine. Enfin, le bureau sera fermé lundi pour des "
            "travaux. S'il n'y a pas d'autres questions, nous nous retrouverons jeudi prochain "
            "à dix heures."
        ),
    ),
}


def words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", plain)


def accuracy(spoken: str, heard: str) -> float:
    expected = set(words(spoken))
    return len(expected & set(words(heard))) / len(expected)


def record(language: str, seconds: float, directory: Path) -> Path:
    """A `seconds`-long 16 kHz WAV of espeak-ng reading the language's text (once, not looped:
    repeated text would make Whisper's compression-ratio check re-decode with fallbacks)."""
    (voice, speed), text = TEXTS[language]
    raw = directory / f"{language}-raw.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    path = directory / f"{language}.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-t", str(seconds), "-ar", "16000",
         "-ac", "1", str(path)],
        check=True,
    )
    return path


def direct_runs(audio: dict[str, Path], runs: int, quick: bool) -> list[tuple[str, str, float, float, float, str]]:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    settings = Settings()
    config = local_engine_config(settings)
    threads = config.threads or os.cpu_count() or 1
    model = WhisperModel(
        str(config.source.directory), device="cpu", compute_type=config.compute_type,
        cpu_threads=threads, files=config.source.read_files(),
    )
    batched = BatchedInferencePipeline(model)
    variants = [("direct beam 5", model, 5), ("direct greedy", model, 1),
                ("direct batched beam 5", batched, 5), ("direct batched greedy", batched, 1)]
    if quick:
        variants = variants[1::2]
    rows = []
    for label, pipeline, beam in variants:
        for language, path in audio.items():
            best, best_cpu, text = 0.0, 0.0, ""
            for _ in range(runs):
                started, cpu = time.perf_counter(), time.process_time()
                segments, info = pipeline.transcribe(str(path), beam_size=beam)
                text = " ".join(segment.text for segment in segments)
                best = max(best, info.duration / (time.perf_counter() - started))
                best_cpu = max(best_cpu, info.duration * threads / (time.process_time() - cpu))
            rows.append((label, language, best, best_cpu, accuracy(TEXTS[language][1], text),
                         info.language))
    return rows


async def engine_runs(audio: dict[str, Path], runs: int) -> list[tuple[str, str, float, float, float, str]]:
    from routeur_grpc.transcription.local_whisper import LocalWhisperEngine

    config = local_engine_config(Settings())
    engine = LocalWhisperEngine(config)
    threads = config.threads or os.cpu_count() or 1
    await engine.start()
    label = f"engine ({'batched' if config.batched else 'sequential'}, beam {config.beam_size})"
    rows = []
    try:
        for language, path in audio.items():
            best, best_cpu, text = 0.0, 0.0, ""
            for _ in range(runs):
                started, cpu = time.perf_counter(), time.process_time()
                result = await engine.transcribe(TranscriptionRequest(audio_path=path))
                text = result.text
                best = max(best, result.duration_s / (time.perf_counter() - started))
                best_cpu = max(best_cpu, result.duration_s * threads / (time.process_time() - cpu))
            rows.append((label, language, best, best_cpu, accuracy(TEXTS[language][1], text),
                         result.language))
    finally:
        await engine.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=1, help="best of N runs per cell")
    parser.add_argument("--quick", action="store_true", help="greedy variants only")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-stt-") as tmp:
        audio = {language: record(language, args.seconds, Path(tmp)) for language in TEXTS}
        rows = asyncio.run(engine_runs(audio, args.runs)) + direct_runs(audio, args.runs, args.quick)
    print(f"\n{args.seconds:.0f} s recordings, {os.cpu_count()} cores, int8, best of {args.runs}")
    print(f"load average before: {load_before:.1f}, after: {os.getloadavg()[0]:.1f}")
    print(f"{'variant':32} {'lang':>4} {'x realtime':>10} {'cpu est.':>8} {'words':>6} {'detected':>8}")
    for label, language, factor, cpu_factor, share, detected in rows:
        print(f"{label:32} {language:>4} {factor:10.1f} {cpu_factor:8.1f} {share:6.0%} {detected:>8}")


if __name__ == "__main__":
    main()
