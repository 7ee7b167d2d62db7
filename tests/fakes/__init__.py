"""Fake upstream servers: real HTTP on 127.0.0.1 (port 0), one per provider wire protocol.

Each fake speaks just enough of its provider's protocol for the official SDK to talk to it,
and can be told to misbehave (`fail_next`, `hang_next`, `drop_next`, `slow_next`) so that
error mapping, retries, fallbacks, deadlines and cancellation are tested for real. Each
records the requests it received and when a client closed a connection mid-response.
"""

from .anthropic_fake import FakeAnthropic
from .gemini_fake import FakeGemini
from .http_server import ClientClose, FakeUpstream, Fault, RecordedRequest
from .mistral_fake import FakeMistral
from .ollama_fake import FakeOllama
from .openai_fake import FakeOpenAI
from .otlp_collector import FakeOtlpCollector, ReceivedSpan

__all__ = [
    "ClientClose",
    "FakeAnthropic",
    "FakeGemini",
    "FakeMistral",
    "FakeOllama",
    "FakeOpenAI",
    "FakeOtlpCollector",
    "FakeUpstream",
    "Fault",
    "ReceivedSpan",
    "RecordedRequest",
]
