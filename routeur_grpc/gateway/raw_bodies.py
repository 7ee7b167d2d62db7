"""REST routes whose body is not JSON (uploads), read from the protos' HTTP annotations.

The gateway accepts only `application/json` bodies on JSON routes: browsers send
`text/plain`, form-encoded and multipart bodies cross-site without asking (no CORS
preflight), and the transcoder would read them as JSON. Routes whose body is a
`google.api.HttpBody` (audio uploads, raw or multipart) take any content type; this module
lists them, as Lua patterns the gateway's Lua filter matches paths against.
"""

from __future__ import annotations

import re
from pathlib import Path

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from routeur_grpc.gateway.body_fields import API_PACKAGE, HTTP_BODY

_VARIABLE = re.compile(r"\{[^}]*\}")
_LUA_MAGIC = re.compile(r"([%^$().\[\]*+\-?])")


def raw_body_patterns(descriptor_set: Path) -> list[str]:
    """A Lua pattern for each REST path whose body is a `google.api.HttpBody`."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    messages = {
        f".{file.package}.{message.name}": message for file in files for message in file.message_type
    }
    patterns: list[str] = []
    for file in files:
        if file.package != API_PACKAGE:
            continue
        for service in file.service:
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                request = messages.get(method.input_type)
                for binding in (rule, *rule.additional_bindings):
                    pattern = binding.WhichOneof("pattern")
                    if pattern is None or not binding.body or request is None:
                        continue
                    path = binding.custom.path if pattern == "custom" else getattr(binding, pattern)
                    if _is_raw(request, binding.body, method.input_type):
                        patterns.append(lua_pattern(path))
    return sorted(set(patterns))


def _is_raw(request: descriptor_pb2.DescriptorProto, body: str, input_type: str) -> bool:
    if body == "*":
        return input_type.lstrip(".") == HTTP_BODY
    field = next((f for f in request.field if f.name == body), None)
    return field is not None and field.type_name.lstrip(".") == HTTP_BODY


def lua_pattern(template: str) -> str:
    """`/a/{id}/b` -> `^/a/[^/]+/b$`, Lua's magic characters escaped."""
    parts = _VARIABLE.split(template)
    escaped = [_LUA_MAGIC.sub(r"%\1", part) for part in parts]
    return "^" + "[^/]+".join(escaped) + "$"
