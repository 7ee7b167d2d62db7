"""An upload as it arrives on the wire: the options, and the audio bytes chunk by chunk.

Uploads are client streams whose messages carry a `google.api.HttpBody`. Over gRPC the
first message carries the options and every message a chunk of the file. Over REST, Envoy
turns the request body into those messages: a raw audio body (options from the query
string), or a `multipart/form-data` body, as `curl -F file=@audio.mp3 -F language=fr`
and OpenAI's SDKs send. A multipart body is parsed here as it streams
(python-multipart's push parser): the `file` part's bytes are passed on as they come and
never held whole; other parts are small form fields. Form fields may come after the file
(curl keeps the order of its `-F` options), so the options are only final once every
chunk has been read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from google.protobuf.message import Message
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from routeur_grpc.domain.transcription import UploadOptions
from routeur_grpc.errors import InvalidArgument

FILE_FIELD = "file"
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32


def _media_type(content_type: str) -> tuple[bytes, dict[bytes, bytes]]:
    """The media type and its parameters; a content type is an HTTP header value, so one
    that is not Latin-1 text (python-multipart's assumption) is the caller's mistake."""
    try:
        content_type.encode("latin-1")
    except UnicodeEncodeError:
        raise InvalidArgument(
            "The upload's content type is not a valid HTTP header value: send a media type "
            "such as audio/mpeg or multipart/form-data; boundary=..., in ASCII.",
            reason="BAD_CONTENT_TYPE",
        ) from None
    return parse_options_header(content_type)


class IncomingUpload:
    """The chunks of one upload and the options sent with it (final once read)."""

    def __init__(self, requests: AsyncIterator[Any], body_field: str) -> None:
        self._requests = requests
        self._body_field = body_field
        self._message_fields: dict[str, Any] = {}
        self._form: _FormReader | None = None
        self._first: Any = None

    async def start(self) -> None:
        """Reads the first message: its options, and whether the body is a form."""
        try:
            self._first = await anext(self._requests)
        except StopAsyncIteration:
            raise InvalidArgument(
                "The upload is empty: send the options, then the file's bytes.",
                reason="EMPTY_UPLOAD",
            ) from None
        self._message_fields = _set_fields(self._first, exclude=self._body_field)
        kind, params = _media_type(getattr(self._first, self._body_field).content_type)
        if kind == b"multipart/form-data":
            boundary = params.get(b"boundary")
            if not boundary:
                raise InvalidArgument(
                    "The multipart/form-data body has no boundary in its Content-Type.",
                    reason="BAD_MULTIPART",
                )
            self._form = _FormReader(boundary)

    @property
    def content_type(self) -> str:
        return str(getattr(self._first, self._body_field).content_type) if self._first else ""

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes, as they arrive."""
        message = self._first
        while message is not None:
            data = getattr(message, self._body_field).data
            if self._form is None:
                if data:
                    yield data
            else:
                for piece in self._form.feed(data):
                    yield piece
            try:
                message = await anext(self._requests)
            except StopAsyncIteration:
                message = None
        if self._form is not None:
            self._form.finish()

    @property
    def form(self) -> Mapping[str, str]:
        """The form fields of a multipart body (empty for a raw body)."""
        return {} if self._form is None else self._form.fields

    def options(self) -> UploadOptions:
        """The options: form fields win over the first message's (query string) values."""
        values: dict[str, Any] = dict(self._message_fields)
        for name, text in self.form.items():
            if name in _OPTION_TYPES and text != "":
                values[name] = text
        if self._form is not None and self._form.file_name and not values.get("file_name"):
            values["file_name"] = self._form.file_name
        return UploadOptions(
            **{name: _typed(name, values[name]) for name in _OPTION_TYPES if name in values}
        )


_OPTION_TYPES: dict[str, type] = {
    "file_name": str,
    "format": str,
    "language": str,
    "prompt": str,
    "model": str,
    "temperature": float,
    "project_id": str,
    "max_duration_seconds": int,
    "kind": str,
}


def _typed(name: str, value: Any) -> Any:
    wanted = _OPTION_TYPES[name]
    if isinstance(value, wanted):
        return value
    try:
        return wanted(str(value).strip())
    except ValueError:
        expected = "a number" if wanted is float else "an integer"
        raise InvalidArgument(
            f"`{name}` is {str(value)[:40]!r}: expected {expected}.",
            reason="INVALID_ARGUMENT",
            metadata={"field": name},
        ) from None


def _set_fields(message: Message, exclude: str) -> dict[str, Any]:
    return {field.name: value for field, value in message.ListFields() if field.name != exclude}


class _FormReader:
    """python-multipart's push parser, collecting form fields and passing the file on."""

    def __init__(self, boundary: bytes) -> None:
        self.fields: dict[str, str] = {}
        self.file_name = ""
        self.file_seen = False
        self._ended = False
        self._pending: list[bytes] = []
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._part_name = ""
        self._in_file = False
        self._value = bytearray()
        try:
            self._parser = MultipartParser(
                boundary,
                callbacks={
                    "on_part_begin": self._part_begin,
                    "on_header_field": self._header_field,
                    "on_header_value": self._header_data,
                    "on_header_end": self._header_end,
                    "on_headers_finished": self._headers_finished,
                    "on_part_data": self._part_data,
                    "on_part_end": self._part_end,
                    "on_end": self._end,
                },
            )
        except FormParserError:
            raise _bad_form("its boundary is not valid") from None

    def feed(self, data: bytes) -> list[bytes]:
        try:
            self._parser.write(data)
        except FormParserError:
            raise _bad_form("it is malformed") from None
        pending, self._pending = self._pending, []
        return pending

    def finish(self) -> None:
        if not self._ended:
            raise _bad_form("it ended before its closing boundary (truncated upload?)")
        if not self.file_seen:
            raise InvalidArgument(
                f"The form has no `{FILE_FIELD}` field: send the audio as "
                f"`-F {FILE_FIELD}=@audio.mp3`.",
                reason="MISSING_FILE",
            )

    # --- parser callbacks ------------------------------------------------------------------
    def _part_begin(self) -> None:
        self._headers = {}
        self._part_name = ""
        self._in_file = False
        self._value = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_name = bytearray()
        self._header_value = bytearray()

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get("content-disposition", b""))
        self._part_name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._part_name == FILE_FIELD:
            if self.file_seen:
                raise _bad_form(f"it has more than one `{FILE_FIELD}` part")
            self.file_seen = True
            self._in_file = True
            self.file_name = params.get(b"filename", b"").decode("utf-8", "replace")[:255]
        elif len(self.fields) >= MAX_FIELDS:
            raise _bad_form(f"it has more than {MAX_FIELDS} fields")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pending.append(bytes(data[start:end]))
            return
        self._value += data[start:end]
        if len(self._value) > MAX_FIELD_BYTES:
            raise _bad_form(f"its field `{self._part_name[:40]}` is longer than 64 KiB")

    def _part_end(self) -> None:
        if not self._in_file and self._part_name:
            self.fields[self._part_name] = self._value.decode("utf-8", "replace")
        self._in_file = False

    def _end(self) -> None:
        self._ended = True


def _bad_form(problem: str) -> InvalidArgument:
    return InvalidArgument(
        f"The multipart/form-data body cannot be read: {problem}.", reason="BAD_MULTIPART"
    )
