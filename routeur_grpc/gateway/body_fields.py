"""Which top-level JSON fields each REST body may carry, for the gateway's Lua filter.

Envoy's gRPC-JSON transcoder silently drops JSON fields the request message does not have,
so a typo (`temprature`) would vanish and the request would run with the default. Envoy
has no option to refuse them, so the Lua filter (gateway/rest_adapter.lua) does: for every
REST binding whose body is the whole request (`body: "*"`), this module lists the accepted
top-level names — each field's proto name and its JSON name — and the filter answers 400
naming the first unknown one. Nested fields are left to the server's validation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

API_PACKAGE = "routeur.v1"
_VARIABLE = re.compile(r"\{([^}=]+)(=[^}]*)?\}")


def _lua_pattern(template: str) -> str:
    """A Lua pattern matching the paths of an HTTP rule's template (`{x}`, `{x=**}`)."""
    out, last = [], 0
    for match in _VARIABLE.finditer(template):
        out.append(_escape(template[last : match.start()]))
        out.append(".+" if match.group(2) and "**" in match.group(2) else "[^/]+")
        last = match.end()
    out.append(_escape(template[last:]))
    return "^" + "".join(out) + "$"


def _escape(text: str) -> str:
    return re.sub(r"([%^$().\[\]*+\-?])", r"%\1", text)


def json_body_rules(descriptor_set: Path) -> list[dict[str, Any]]:
    """`[{method, pattern, fields}]` for every `body: "*"` binding of the API's services."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    messages = {
        f".{file.package}.{message.name}": message for file in files for message in file.message_type
    }
    rules: list[dict[str, Any]] = []
    for file in files:
        if file.package != API_PACKAGE:
            continue
        for service in file.service:
            for method in service.method:
                if not method.options.HasExtension(annotations_pb2.http):
                    continue
                rule: http_pb2.HttpRule = method.options.Extensions[annotations_pb2.http]
                message = messages.get(method.input_type)
                if message is None or method.client_streaming:
                    continue
                fields = sorted({name for f in message.field for name in (f.name, f.json_name)})
                for binding in (rule, *rule.additional_bindings):
                    kind = binding.WhichOneof("pattern")
                    if kind in (None, "custom") or binding.body != "*":
                        continue
                    rules.append(
                        {
                            "method": kind.upper(),
                            "pattern": _lua_pattern(getattr(binding, kind)),
                            "fields": dict.fromkeys(fields, True),
                        }
                    )
    return rules
