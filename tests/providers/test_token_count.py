"""Token counting works offline and matches an independent tokenizer."""

from __future__ import annotations

import asyncio
import pickle
import tracemalloc

import pytest

from routeur_grpc.domain.completion import ChatMessage
from routeur_grpc.providers import token_count
from routeur_grpc.providers.token_count import (
    APPROXIMATION_ENCODING,
    TOKENS_PER_MESSAGE,
    TOKENS_REPLY_PRIMING,
    TokenCounter,
    load_encoding,
    openai_encoding_name,
)

SAMPLES = [
    "hello world",
    "Bonjour, ceci est un test : 12 345,67 € — déjà vu ?",
    "def f(x):\n    return x ** 2  # squares\n\n\n",
    "日本語のテキストと emoji 🎉 mixed",
    "a user may type <|endoftext|> literally",
]


@pytest.mark.filterwarnings("ignore:open_binary is deprecated:DeprecationWarning")
@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
def test_encodings_match_the_rust_tokenizer(encoding: str) -> None:
    import bpe_openai  # the independent reference: a Rust BPE over the same files

    ours = load_encoding(encoding)
    reference = bpe_openai.get_encoding(encoding)
    for text in SAMPLES:
        assert ours.encode_ordinary(text) == reference.encode(text, disallowed_special=())


def test_known_token_ids() -> None:
    assert load_encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert load_encoding("o200k_base").encode("hello world") == [24912, 2375]


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-5-nano", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("openai/gpt-4.1", "o200k_base"),
        ("mistral-large-latest", None),
        ("claude-haiku-4-5", None),
    ],
)
def test_openai_models_are_recognised(model: str, encoding: str | None) -> None:
    assert openai_encoding_name(model) == encoding


async def test_exact_for_openai_approximate_for_the_rest(token_counter: TokenCounter) -> None:
    assert token_counter.is_exact("gpt-4o")
    assert not token_counter.is_exact("mistral-large-latest")
    assert (await token_counter.encoding("mistral-large-latest")).name == APPROXIMATION_ENCODING
    assert await token_counter.count_text("gpt-4", "hello world") == 2
    assert await token_counter.count_text("gpt-4o", "") == 0


async def test_chat_overhead_follows_the_cookbook(token_counter: TokenCounter) -> None:
    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "hello world")]
    encoding = await token_counter.encoding("gpt-4o")
    content = sum(
        len(encoding.encode(m.role)) + len(encoding.encode(m.content)) for m in messages
    )
    expected = content + len(messages) * TOKENS_PER_MESSAGE + TOKENS_REPLY_PRIMING
    assert await token_counter.count_messages("gpt-4o", messages) == expected


async def test_counts_asked_at_once_before_the_encoding_is_built_build_it_once() -> None:
    token_count._built.cache_clear()  # as in a fresh process: nothing built yet
    counter = TokenCounter()
    counts = await asyncio.gather(
        *(counter.count_text("gpt-4o", "hello world") for _ in range(4))
    )
    assert counts == [2, 2, 2, 2]
    assert token_count._built.cache_info().misses == 1  # four threads asked, one built


def test_a_built_encoding_keeps_no_python_copy_of_its_vocabulary() -> None:
    token_count._built.cache_clear()
    tracemalloc.start()
    try:
        encoding = load_encoding("cl100k_base")
        kept, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The vocabulary, as a Python dictionary, is about 12 MB (100,256 entries): it was
    # read, handed to tiktoken's Rust tables, and let go.
    assert kept < 2_000_000
    assert encoding.encode("hello world") == [15339, 1917]


def test_an_encoding_pickles_by_name_and_counts_alike_once_unpickled() -> None:
    encoding = load_encoding("o200k_base")
    data = pickle.dumps(encoding)
    assert len(data) < 200  # its name, not its vocabulary
    again = pickle.loads(data)
    for text in SAMPLES:
        assert again.encode_ordinary(text) == encoding.encode_ordinary(text)
