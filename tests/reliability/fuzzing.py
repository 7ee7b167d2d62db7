"""Fuzzing every routeur.v1 RPC over gRPC and over REST: the cases, how they are sent, and
the verdict on each answer.

The RPCs are read from the descriptors of every generated `routeur.v1` module, and the REST
requests from each RPC's `google.api.http` annotation, so a new RPC is fuzzed without
touching this file. Cases come from `hypothesis`:

- gRPC, typed: a message of the RPC's input type, every field drawn from its type (with
  values chosen to hurt: huge strings, invalid ids, NaN, unknown enum numbers, deep JSON);
- gRPC, raw: bytes of a valid message mutated (truncated, flipped, extended) or random;
- REST: the annotation's method and path with random path parameters, query strings,
  headers, and JSON bodies (a valid message's JSON, wrong types, deep nesting, non-JSON).

The verdict (`Verdict`) is the suite's promise: never INTERNAL or UNKNOWN (HTTP 500/502)
for a request's content, never a Python class name or stack text in an answer, never an answer later than the deadline allows.
Used by tests/reliability/test_fuzz_*.py (a short profile) and bench/fuzz.py (a long run).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import pkgutil
import re
import string
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import grpc
import httpx
import routeur.v1
from google.api import annotations_pb2
from google.protobuf import descriptor as descriptor_mod
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

DEADLINE_S = 5.0
DEADLINE_SLACK_S = 3.0  # scheduling on a busy machine; a hang is far longer
STREAM_MESSAGES_READ = 3
MAX_DEPTH = 3
CLIENT_CORE_ERROR = "Internal error from Core"

# Answers that must never come back for something a caller sent.
FORBIDDEN_CODES = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})
FORBIDDEN_HTTP = frozenset({500, 502})
LEAK = re.compile(
    r"Traceback|File \"|<class |\b[A-Za-z_]+(?:Error|Exception)\b|\.py\b|site-packages"
)

INTERESTING_TEXT = [
    "", " ", "gpt-4o", "local/smollm2-135m-instruct", "mistral-large-latest", "user",
    "assistant", "system", "admin", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "0" * 26, "../../etc/passwd",
    "'; DROP TABLE conversations; --", "{\"$gt\": \"\"}", "%s%n%x", "\u202e\u0000", "\ud7ff",
    "é" * 3000, "x" * 20_000, "null", "-1", "NaN", "*", "models/../..", "a/b/c",
]


@dataclass(frozen=True)
class Rpc:
    """One method of a routeur.v1 service, as its descriptor states it."""

    service: str
    name: str
    method: descriptor_mod.MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"

    @property
    def input(self) -> descriptor_mod.Descriptor:
        return self.method.input_type

    @property
    def client_streaming(self) -> bool:
        return self.method.client_streaming

    @property
    def server_streaming(self) -> bool:
        return self.method.server_streaming

    @property
    def http(self) -> tuple[str, str, str] | None:
        """(HTTP method, path template, body) from the google.api.http annotation."""
        rule = self.method.GetOptions().Extensions[annotations_pb2.http]
        verb = rule.WhichOneof("pattern")
        if verb is None or verb == "custom":
            return None
        return verb.upper(), getattr(rule, verb), rule.body


def every_rpc() -> list[Rpc]:
    """Every RPC of every service in the generated routeur.v1 package."""
    rpcs: list[Rpc] = []
    for module_info in sorted(pkgutil.iter_modules(routeur.v1.__path__), key=lambda m: m.name):
        if not module_info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"routeur.v1.{module_info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            rpcs.extend(Rpc(service.full_name, m.name, m) for m in service.methods)
    return rpcs


def message_class(descriptor: descriptor_mod.Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


# --- Typed messages ----------------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(INTERESTING_TEXT),
    st.text(alphabet=string.ascii_letters + string.digits + "-_/.", min_size=1, max_size=30),
)
json_leaves = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False), texts
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)


def _integers(bits: int, signed: bool) -> st.SearchStrategy[int]:
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    edges = [v for v in (0, 1, -1, 2, 10, 50, 100, 1000, 10**6, low, high) if low <= v <= high]
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    FieldDescriptor.TYPE_DOUBLE: st.floats(),
    FieldDescriptor.TYPE_FLOAT: st.floats(width=32),
    FieldDescriptor.TYPE_INT64: _integers(64, True),
    FieldDescriptor.TYPE_SINT64: _integers(64, True),
    FieldDescriptor.TYPE_SFIXED64: _integers(64, True),
    FieldDescriptor.TYPE_UINT64: _integers(64, False),
    FieldDescriptor.TYPE_FIXED64: _integers(64, False),
    FieldDescriptor.TYPE_INT32: _integers(32, True),
    FieldDescriptor.TYPE_SINT32: _integers(32, True),
    FieldDescriptor.TYPE_SFIXED32: _integers(32, True),
    FieldDescriptor.TYPE_UINT32: _integers(32, False),
    FieldDescriptor.TYPE_FIXED32: _integers(32, False),
    FieldDescriptor.TYPE_BOOL: st.booleans(),
    FieldDescriptor.TYPE_STRING: texts,
    FieldDescriptor.TYPE_BYTES: st.binary(max_size=64),
}


def _scalar(field_descriptor: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field_descriptor.type == FieldDescriptor.TYPE_ENUM:
        numbers = [value.number for value in field_descriptor.enum_type.values]
        return st.one_of(st.sampled_from(numbers), st.integers(-3, 1000))
    return _SCALARS[field_descriptor.type]


def _well_known(descriptor: descriptor_mod.Descriptor) -> st.SearchStrategy[Message] | None:
    cls = message_class(descriptor)
    name = descriptor.full_name

    def parsed(value: Any) -> Message:
        return json_format.ParseDict(value, cls())

    if name == "google.protobuf.Struct":
        return st.dictionaries(st.text(max_size=8), json_values, max_size=4).map(parsed)
    if name == "google.protobuf.Value":
        return json_values.map(parsed)
    if name == "google.protobuf.ListValue":
        return st.lists(json_values, max_size=4).map(parsed)
    if name == "google.protobuf.Timestamp":
        return st.builds(
            cls, seconds=st.integers(-62135596800, 253402300799), nanos=st.integers(0, 999_999_999)
        )
    if name == "google.protobuf.Duration":
        return st.builds(cls, seconds=st.integers(-315576000000, 315576000000))
    if name == "google.protobuf.FieldMask":
        return st.builds(cls, paths=st.lists(texts, max_size=3))
    if name == "google.protobuf.Any":
        return st.just(cls())
    return None


@st.composite
def messages(draw: st.DrawFn, descriptor: descriptor_mod.Descriptor, depth: int = 0) -> Message:
    """A message of type `descriptor`, each field set or not, with hostile values."""
    well_known = _well_known(descriptor)
    if well_known is not None:
        return draw(well_known)
    message = message_class(descriptor)()
    for field_descriptor in descriptor.fields:
        if not draw(st.booleans()):
            continue
        is_message = field_descriptor.type == FieldDescriptor.TYPE_MESSAGE
        if is_message and depth >= MAX_DEPTH:
            continue
        target = getattr(message, field_descriptor.name)
        if is_message and field_descriptor.message_type.GetOptions().map_entry:
            key_field = field_descriptor.message_type.fields_by_name["key"]
            value_field = field_descriptor.message_type.fields_by_name["value"]
            for _ in range(draw(st.integers(0, 3))):
                key = draw(_scalar(key_field))
                if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                    target[key].CopyFrom(draw(messages(value_field.message_type, depth + 1)))
                else:
                    target[key] = draw(_scalar(value_field))
        elif field_descriptor.is_repeated:
            for _ in range(draw(st.integers(0, 3))):
                if is_message:
                    target.add().CopyFrom(draw(messages(field_descriptor.message_type, depth + 1)))
                else:
                    target.append(draw(_scalar(field_descriptor)))
        elif is_message:
            target.CopyFrom(draw(messages(field_descriptor.message_type, depth + 1)))
        else:
            setattr(message, field_descriptor.name, draw(_scalar(field_descriptor)))
    return message


# --- Raw bytes ---------------------------------------------------------------------------------


@st.composite
def raw_payloads(draw: st.DrawFn, descriptor: descriptor_mod.Descriptor) -> bytes:
    """Bytes near a valid message of type `descriptor`: mutated, cut, extended, or random."""
    valid = draw(messages(descriptor)).SerializeToString()
    kind = draw(st.sampled_from(["random", "truncate", "flip", "insert", "deep", "bad_utf8"]))
    if kind == "random" or not valid:
        return draw(st.binary(max_size=256))
    if kind == "truncate":
        return valid[: draw(st.integers(0, max(0, len(valid) - 1)))]
    if kind == "flip":
        data = bytearray(valid)
        for _ in range(draw(st.integers(1, 4))):
            index = draw(st.integers(0, len(data) - 1))
            data[index] ^= draw(st.integers(1, 255))
        return bytes(data)
    if kind == "insert":
        at = draw(st.integers(0, len(valid)))
        return valid[:at] + draw(st.binary(min_size=1, max_size=32)) + valid[at:]
    if kind == "deep":  # field 1 as a message holding field 1 as a message... 200 deep
        payload = b""
        for _ in range(200):
            payload = b"\x0a" + _varint(len(payload)) + payload
        return payload
    return valid + b"\x0a\x03\xff\xfe\xfd"  # field 1, a string that is not UTF-8


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


# --- The verdict -------------------------------------------------------------------------------


@dataclass
class Verdict:
    """Cases run and the failures seen, each described in one line."""

    cases: int = 0
    failures: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)
    samples: dict[str, str] = field(default_factory=dict)
    """One answer per kind, to see what each code was about."""

    def count(self, label: str, sample: str = "") -> None:
        self.cases += 1
        self.codes[label] = self.codes.get(label, 0) + 1
        self.samples.setdefault(label, sample[:200])

    def fail(self, where: str, what: str) -> None:
        self.failures.append(f"{where}: {what}"[:600])


def leaked(text: str, sent: str = "") -> str | None:
    """The first class name or stack text in `text` that the caller did not send itself
    (hypothesis draws strings from source files too, e.g. `fake_stack.py`, echoed back)."""
    for found in LEAK.finditer(text):
        if found.group() not in sent:
            return found.group()
    return None


# --- Sending over gRPC -------------------------------------------------------------------------


@dataclass(frozen=True)
class GrpcCase:
    rpc: Rpc
    payloads: tuple[bytes, ...]
    metadata: tuple[tuple[str, str], ...] = ()


metadata_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60
)
grpc_metadata = st.lists(
    st.tuples(
        st.sampled_from(["x-request-id", "authorization", "x-api-key", "x-custom"]),
        metadata_values,
    ),
    max_size=2,
).map(tuple)


def grpc_cases(rpc: Rpc, *, raw: bool) -> st.SearchStrategy[GrpcCase]:
    payload = raw_payloads(rpc.input) if raw else messages(rpc.input).map(
        lambda m: m.SerializeToString()
    )
    count = st.integers(1, 3) if rpc.client_streaming else st.just(1)
    return st.builds(
        GrpcCase,
        rpc=st.just(rpc),
        payloads=count.flatmap(lambda n: st.lists(payload, min_size=n, max_size=n).map(tuple)),
        metadata=grpc_metadata,
    )


async def send_grpc(channel: grpc.aio.Channel, case: GrpcCase, verdict: Verdict) -> None:
    """Send one case and judge the answer."""
    rpc = case.rpc
    where = f"gRPC {rpc.path}"
    started = time.monotonic()
    options: dict[str, Any] = {"timeout": DEADLINE_S, "metadata": case.metadata or None}
    code = grpc.StatusCode.OK
    details = ""
    call: Any = None
    try:
        # Client streams are written message by message: with a request iterator, grpc's
        # client reports its own INTERNAL when the server answers before reading it all.
        if rpc.client_streaming and rpc.server_streaming:
            call = channel.stream_stream(rpc.path)(**options)
            await _write_all(call, case.payloads)
            await _read_some(call)
        elif rpc.client_streaming:
            call = channel.stream_unary(rpc.path)(**options)
            await _write_all(call, case.payloads)
            await call
            call = None
        elif rpc.server_streaming:
            call = channel.unary_stream(rpc.path)(case.payloads[0], **options)
            await _read_some(call)
        else:
            await channel.unary_unary(rpc.path)(case.payloads[0], **options)
    except grpc.aio.AioRpcError as error:
        code, details = error.code(), error.details() or ""
    finally:
        if call is not None:
            call.cancel()
    elapsed = time.monotonic() - started
    if code == grpc.StatusCode.INTERNAL and details == CLIENT_CORE_ERROR and rpc.client_streaming:
        # grpc's Python client, not the server: a write racing the server's early answer on
        # a client stream ends the call with this text (the server logged its own status).
        verdict.count("client-side race")
        return
    verdict.count(code.name, f"{rpc.path}: {details}")
    if code in FORBIDDEN_CODES:
        verdict.fail(where, f"{code.name}: {details[:200]!r} for {case.payloads[0][:80]!r}")
    sent = b"".join(case.payloads).decode("utf-8", errors="replace")
    if (word := leaked(details, sent)) is not None:
        verdict.fail(where, f"leaks {word!r}: {details[:200]!r}")
    if elapsed > DEADLINE_S + DEADLINE_SLACK_S:
        verdict.fail(where, f"answered after {elapsed:.1f} s (deadline {DEADLINE_S:g} s)")


async def _write_all(call: Any, payloads: tuple[bytes, ...]) -> None:
    try:
        for payload in payloads:
            await call.write(payload)
        await call.done_writing()
    except (grpc.aio.UsageError, grpc.aio.AioRpcError, asyncio.InvalidStateError):
        pass  # the server has already answered; its status is read next


async def _read_some(call: Any) -> None:
    received = 0
    async for _ in call:
        received += 1
        if received >= STREAM_MESSAGES_READ:
            break


# --- Sending over REST -------------------------------------------------------------------------


@dataclass(frozen=True)
class RestCase:
    where: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes | None


_PLACEHOLDER = re.compile(r"\{([^}=]+)(?:=([^}]*))?\}")


def _path_segment(draw: st.DrawFn) -> str:
    value = draw(st.one_of(texts, st.just("0" * 26), st.just("01ARZ3NDEKTSV4RRFFQ69G5FAV")))
    return quote(value, safe="") or "x"


def _body_json(draw: st.DrawFn, rpc: Rpc, body: str) -> bytes:
    descriptor = rpc.input
    if body not in ("*", ""):
        descriptor = descriptor.fields_by_name[body].message_type
    kind = draw(st.sampled_from(["message", "message", "wrong_types", "deep", "not_json", "empty"]))
    if kind == "message":
        value = json_format.MessageToDict(
            draw(messages(descriptor)), preserving_proto_field_name=True
        )
        return json.dumps(value).encode()
    if kind == "wrong_types":
        value = {f.name: draw(json_values) for f in descriptor.fields if draw(st.booleans())}
        return json.dumps(value).encode()
    if kind == "deep":
        depth = draw(st.integers(20, 120))
        inner = "[" * depth + "1" + "]" * depth
        name = draw(st.sampled_from([f.name for f in descriptor.fields] or ["x"]))
        return f'{{"{name}": {inner}}}'.encode()
    if kind == "not_json":
        return draw(st.binary(max_size=64))
    return b""


@st.composite
def rest_cases(draw: st.DrawFn, rpc: Rpc) -> RestCase:
    """A request for `rpc`'s REST mapping with hostile parameters, headers and body."""
    assert rpc.http is not None
    method, template, body = rpc.http
    path = _PLACEHOLDER.sub(lambda _: _path_segment(draw), template)
    query: list[tuple[str, str]] = []
    if draw(st.booleans()):
        names = [f.name for f in rpc.input.fields] + ["unknown_param", "page_size", "page_token"]
        for _ in range(draw(st.integers(1, 3))):
            query.append((draw(st.sampled_from(names)), draw(texts)[:200]))
    headers = [("content-type", draw(st.sampled_from(
        ["application/json", "application/json", "text/plain", "application/grpc-web+proto"]
    )))]
    if draw(st.booleans()):
        headers.append((
            draw(st.sampled_from(["authorization", "x-request-id", "accept", "x-custom"])),
            draw(metadata_values),
        ))
    if draw(st.integers(0, 9)) == 0:
        headers.append(("x-padding", "p" * draw(st.sampled_from([9_000, 40_000, 70_000]))))
    payload = _body_json(draw, rpc, body) if method in ("POST", "PUT", "PATCH") else None
    return RestCase(f"REST {method} {template}", method, path, tuple(query), tuple(headers), payload)


async def send_rest(
    client: httpx.AsyncClient, case: RestCase, verdict: Verdict, auth: dict[str, str]
) -> None:
    """Send one REST case and judge the answer (a stream is read to its end or the deadline)."""
    started = time.monotonic()
    headers = {**dict(case.headers), **auth}
    try:
        async with asyncio.timeout(DEADLINE_S + DEADLINE_SLACK_S):
            async with client.stream(
                case.method, case.path, params=list(case.query), headers=headers,
                content=case.body, timeout=DEADLINE_S + DEADLINE_SLACK_S,
            ) as response:
                text = (await response.aread()).decode("utf-8", errors="replace")
                status = response.status_code
    except TimeoutError:
        verdict.count("timeout")
        verdict.fail(case.where, f"no complete answer within {DEADLINE_S + DEADLINE_SLACK_S:g} s")
        return
    except httpx.LocalProtocolError:
        verdict.count("not sendable")  # httpx refuses the drawn request (e.g. a bad header)
        return
    except httpx.HTTPError as error:
        verdict.count("transport")
        verdict.fail(case.where, f"transport error {type(error).__name__} for {case.path[:80]!r}")
        return
    verdict.count(str(status), f"{case.method} {case.path[:60]}: {text[:120]}")
    if status in FORBIDDEN_HTTP:
        verdict.fail(case.where, f"HTTP {status}: {text[:200]!r} for {case.path[:80]!r} "
                                 f"body {(case.body or b'')[:80]!r}")
    if '"code": 13' in text or '"code":13' in text or '"code":2,' in text:
        verdict.fail(case.where, f"INTERNAL/UNKNOWN in the body: {text[:200]!r}")
    sent = f"{case.path} {case.query} {case.headers} {(case.body or b'').decode(errors='replace')}"
    if (word := leaked(text, sent)) is not None:
        verdict.fail(case.where, f"leaks {word!r}: {text[:200]!r}")
    del started


def rest_rpcs() -> Iterator[Rpc]:
    """RPCs with a REST mapping that a plain HTTP client can call (not bidi streams)."""
    for rpc in every_rpc():
        if rpc.http is not None and not (rpc.client_streaming and rpc.server_streaming):
            yield rpc


# --- Driving hypothesis ------------------------------------------------------------------------
#
# hypothesis runs synchronous test functions; each case is sent on an event loop that this
# process owns. The fuzz client runs in a process of its own (`python fuzzing.py ...`):
# grpc.aio calls made from a second event loop in the server's process fail at random in
# grpc's client (INTERNAL "Internal error from Core" on client streams), which would be
# noise, not findings.


def run_cases(
    strategy: st.SearchStrategy[Any], examples: int, handle: Callable[[Any], None], *, seed: int | None
) -> None:
    """Draw `examples` cases from `strategy` and hand each to `handle` (no shrinking: the
    verdict collects failures instead of raising, so every case runs)."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(case: Any) -> None:
        handle(case)

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    run()


def fuzz_grpc(
    address: str,
    examples_per_rpc: int,
    *,
    raw: bool,
    open_channel: Callable[[str], grpc.aio.Channel],
    seed: int | None = None,
    rpcs: list[Rpc] | None = None,
) -> Verdict:
    """Fuzz every RPC over gRPC (typed messages, or raw bytes when `raw`)."""
    verdict = Verdict()
    loop = asyncio.new_event_loop()
    try:
        channel = loop.run_until_complete(_in_loop(lambda: open_channel(address)))
        for rpc in rpcs or every_rpc():
            run_cases(
                grpc_cases(rpc, raw=raw),
                examples_per_rpc,
                lambda case: loop.run_until_complete(send_grpc(channel, case, verdict)),
                seed=seed,
            )
        loop.run_until_complete(channel.close())
    finally:
        loop.close()
    return verdict


def fuzz_rest(
    base_url: str,
    examples_per_rpc: int,
    *,
    auth: dict[str, str],
    seed: int | None = None,
    rpcs: list[Rpc] | None = None,
) -> Verdict:
    """Fuzz every RPC's REST mapping through the gateway."""
    verdict = Verdict()
    loop = asyncio.new_event_loop()
    try:
        client = loop.run_until_complete(_in_loop(lambda: httpx.AsyncClient(base_url=base_url)))
        for rpc in rpcs or list(rest_rpcs()):
            run_cases(
                rest_cases(rpc),
                examples_per_rpc,
                lambda case: loop.run_until_complete(send_rest(client, case, verdict, auth)),
                seed=seed,
            )
        loop.run_until_complete(client.aclose())
    finally:
        loop.close()
    return verdict


async def _in_loop(make: Callable[[], Any]) -> Any:
    return make()


async def run_fuzz_client(*arguments: str, timeout_s: float = 600.0) -> Verdict:
    """Run this module as a fuzz client process; its verdict."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, *arguments,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), timeout=timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    lines = stdout.decode().strip().splitlines()
    if process.returncode != 0 or not lines:
        raise AssertionError(f"fuzz client failed ({process.returncode}): {lines[-5:]}")
    result = json.loads(lines[-1])
    return Verdict(**result)


def main(argv: list[str] | None = None) -> None:
    """`fuzzing.py grpc ADDRESS N [--raw]` or `fuzzing.py rest URL N`: one JSON line."""
    import argparse

    from support import auth_headers, open_channel

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("face", choices=["grpc", "rest"])
    parser.add_argument("target", help="gRPC address or REST base URL")
    parser.add_argument("examples", type=int, help="cases per RPC")
    parser.add_argument("--raw", action="store_true", help="raw byte mutations (gRPC)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.face == "grpc":
        verdict = fuzz_grpc(
            args.target, args.examples, raw=args.raw, open_channel=open_channel, seed=args.seed
        )
    else:
        verdict = fuzz_rest(args.target, args.examples, auth=auth_headers(), seed=args.seed)
    print(json.dumps(dataclasses.asdict(verdict)), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
