"""OpenAPI 3.0 document of the REST face, generated from the descriptor set.

Why a script: the maintained generators (grpc-gateway's protoc-gen-openapiv2, gnostic's
protoc-gen-openapi) are Go programs that no PyPI or npm package ships. This one reads what
Envoy reads, `generated/routeur_v1.pb` (built with `--include_source_info`), so the paths are
the `google.api.http` rules Envoy transcodes and the descriptions are the proto comments. It
describes the JSON the gateway prints: proto field names, 64-bit integers as strings, server
streams as Server-Sent Events, errors as `google.rpc.Status`.

    python tools/openapi.py generated/routeur_v1.pb gateway/openapi.json   (make openapi)

A build tool: the document is built with the contracts (`make protos`) and shipped with the
gateway's files; nothing runs this at serving time.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from routeur_grpc import __version__  # noqa: E402
from routeur_grpc.gateway.streaming import STREAM_SWITCHES  # noqa: E402

FieldProto = descriptor_pb2.FieldDescriptorProto
Schema = dict[str, Any]

API_PACKAGE = "routeur.v1"
HTTP_BODY = "google.api.HttpBody"
STATUS = "google.rpc.Status"

_SCALARS: Mapping[int, Schema] = {
    FieldProto.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldProto.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldProto.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldProto.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldProto.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldProto.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    FieldProto.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    # Proto3 JSON prints 64-bit integers as strings.
    FieldProto.TYPE_INT64: {"type": "string", "format": "int64"},
    FieldProto.TYPE_SINT64: {"type": "string", "format": "int64"},
    FieldProto.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    FieldProto.TYPE_UINT64: {"type": "string", "format": "uint64"},
    FieldProto.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    FieldProto.TYPE_BOOL: {"type": "boolean"},
    FieldProto.TYPE_STRING: {"type": "string"},
    FieldProto.TYPE_BYTES: {"type": "string", "format": "byte"},
}

# Well-known types have their own JSON forms.
_WELL_KNOWN: Mapping[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "example": "1.5s"},
    "google.protobuf.FieldMask": {"type": "string", "example": "display_name,role"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {"description": "Any JSON value."},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
    "google.protobuf.DoubleValue": {"type": "number", "format": "double", "nullable": True},
    "google.protobuf.FloatValue": {"type": "number", "format": "float", "nullable": True},
    "google.protobuf.Int32Value": {"type": "integer", "format": "int32", "nullable": True},
    "google.protobuf.UInt32Value": {"type": "integer", "format": "int64", "nullable": True},
    "google.protobuf.Int64Value": {"type": "string", "format": "int64", "nullable": True},
    "google.protobuf.UInt64Value": {"type": "string", "format": "uint64", "nullable": True},
    "google.protobuf.BoolValue": {"type": "boolean", "nullable": True},
    "google.protobuf.StringValue": {"type": "string", "nullable": True},
    "google.protobuf.BytesValue": {"type": "string", "format": "byte", "nullable": True},
    HTTP_BODY: {"type": "string", "format": "binary"},
}

_UPLOAD_CONTENT: Schema = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}},
            "additionalProperties": {"type": "string"},
        }
    },
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
}

_TEMPLATE_VARIABLE = re.compile(r"\{([^}=]+)(?:=[^}]*)?\}")


@dataclass(frozen=True, slots=True)
class _Type:
    """A message or enum of the descriptor set, with its comments."""

    full_name: str
    proto: descriptor_pb2.DescriptorProto | descriptor_pb2.EnumDescriptorProto
    comment: str
    field_comments: tuple[str, ...]


class _Catalog:
    """Every message and enum of a descriptor set, by full name (no leading dot)."""

    def __init__(self, files: Iterable[descriptor_pb2.FileDescriptorProto]) -> None:
        self.types: dict[str, _Type] = {}
        self.files = list(files)
        for file in self.files:
            comments = _comments(file)
            prefix = file.package
            for index, message in enumerate(file.message_type):
                self._add_message(message, prefix, (4, index), comments)
            for index, enum in enumerate(file.enum_type):
                self._add_enum(enum, prefix, (5, index), comments)

    def _add_message(
        self,
        message: descriptor_pb2.DescriptorProto,
        prefix: str,
        path: tuple[int, ...],
        comments: Mapping[tuple[int, ...], str],
    ) -> None:
        name = f"{prefix}.{message.name}" if prefix else message.name
        fields = tuple(comments.get((*path, 2, i), "") for i in range(len(message.field)))
        self.types[name] = _Type(name, message, comments.get(path, ""), fields)
        for index, nested in enumerate(message.nested_type):
            self._add_message(nested, name, (*path, 3, index), comments)
        for index, enum in enumerate(message.enum_type):
            self._add_enum(enum, name, (*path, 4, index), comments)

    def _add_enum(
        self,
        enum: descriptor_pb2.EnumDescriptorProto,
        prefix: str,
        path: tuple[int, ...],
        comments: Mapping[tuple[int, ...], str],
    ) -> None:
        name = f"{prefix}.{enum.name}"
        values = tuple(comments.get((*path, 2, i), "") for i in range(len(enum.value)))
        self.types[name] = _Type(name, enum, comments.get(path, ""), values)

    def message(self, name: str) -> _Type:
        found = self.types[name.lstrip(".")]
        assert isinstance(found.proto, descriptor_pb2.DescriptorProto), name
        return found


def _comments(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    """Leading (and trailing) comments by source path, lint directives removed."""
    found: dict[tuple[int, ...], str] = {}
    for location in file.source_code_info.location:
        text = "\n".join(
            part for part in (location.leading_comments, location.trailing_comments) if part
        )
        lines = [line.strip() for line in text.splitlines() if "buf:lint:" not in line]
        cleaned = "\n".join(lines).strip()
        if cleaned:
            found[tuple(location.path)] = re.sub(r"(?<!\n)\n(?!\n)", " ", cleaned)
    return found


def _schema_name(full_name: str) -> str:
    prefix = f"{API_PACKAGE}."
    return full_name.removeprefix(prefix)


class _Builder:
    """Collects the schemas that the operations reference."""

    def __init__(self, catalog: _Catalog) -> None:
        self.catalog = catalog
        self.schemas: dict[str, Schema] = {}

    def ref(self, full_name: str) -> Schema:
        full_name = full_name.lstrip(".")
        if full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[full_name])
        name = _schema_name(full_name)
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: recursive types end here
            self.schemas[name] = self._define(self.catalog.types[full_name])
        return {"$ref": f"#/components/schemas/{name}"}

    def _define(self, found: _Type) -> Schema:
        if isinstance(found.proto, descriptor_pb2.EnumDescriptorProto):
            schema: Schema = {"type": "string", "enum": [v.name for v in found.proto.value]}
            notes = [
                f"`{value.name}`: {comment}"
                for value, comment in zip(found.proto.value, found.field_comments, strict=True)
                if comment
            ]
            description = "\n\n".join(filter(None, [found.comment, "\n".join(notes)]))
        else:
            schema = self.object_schema(found, exclude=())
            description = found.comment
        if description:
            schema["description"] = description
        return schema

    def object_schema(self, found: _Type, exclude: Iterable[str]) -> Schema:
        assert isinstance(found.proto, descriptor_pb2.DescriptorProto)
        skipped = set(exclude)
        properties: Schema = {}
        for field, comment in zip(found.proto.field, found.field_comments, strict=True):
            if field.name in skipped:
                continue
            properties[field.name] = self.field_schema(field, comment)
        return {"type": "object", "properties": properties}

    def field_schema(self, field: FieldProto, comment: str = "") -> Schema:
        if field.type == FieldProto.TYPE_MESSAGE:
            entry = self.catalog.types.get(field.type_name.lstrip("."))
            if entry is not None and entry.proto.options.map_entry:
                assert isinstance(entry.proto, descriptor_pb2.DescriptorProto)
                value = self._single(entry.proto.field[1])
                schema: Schema = {"type": "object", "additionalProperties": value}
                return _described(schema, comment)
        single = self._single(field)
        if field.label == FieldProto.LABEL_REPEATED:
            return _described({"type": "array", "items": single}, comment)
        return _described(single, comment)

    def _single(self, field: FieldProto) -> Schema:
        if field.type in (FieldProto.TYPE_MESSAGE, FieldProto.TYPE_ENUM):
            return self.ref(field.type_name)
        return dict(_SCALARS[field.type])


def _described(schema: Schema, comment: str) -> Schema:
    if not comment:
        return schema
    if "$ref" in schema:  # OpenAPI 3.0 ignores the siblings of a $ref
        return {"allOf": [schema], "description": comment}
    return {**schema, "description": comment}


def _rules(rule: http_pb2.HttpRule) -> list[tuple[str, str, str]]:
    """(HTTP method, path template, body) of a rule and its additional bindings."""
    found = []
    for binding in (rule, *rule.additional_bindings):
        pattern = binding.WhichOneof("pattern")
        if pattern is None:
            continue
        if pattern == "custom":
            found.append((binding.custom.kind.lower(), binding.custom.path, binding.body))
        else:
            found.append((pattern, getattr(binding, pattern), binding.body))
    return found


def _field_at(catalog: _Catalog, message: _Type, dotted: str) -> FieldProto:
    current = message
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        assert isinstance(current.proto, descriptor_pb2.DescriptorProto)
        field = next(f for f in current.proto.field if f.name == part)
        if depth == len(parts) - 1:
            return field
        current = catalog.message(field.type_name)
    raise AssertionError(dotted)


def _comment_of(catalog: _Catalog, message: _Type, dotted: str) -> str:
    *parents, last = dotted.split(".")
    current = message
    for part in parents:
        assert isinstance(current.proto, descriptor_pb2.DescriptorProto)
        field = next(f for f in current.proto.field if f.name == part)
        current = catalog.message(field.type_name)
    assert isinstance(current.proto, descriptor_pb2.DescriptorProto)
    for field, comment in zip(current.proto.field, current.field_comments, strict=True):
        if field.name == last:
            return comment
    return ""


def _query_parameters(
    builder: _Builder, message: _Type, bound: set[str], prefix: str = "", depth: int = 0
) -> list[Schema]:
    """Every field not bound to the path or body, as query parameters (nested with dots)."""
    assert isinstance(message.proto, descriptor_pb2.DescriptorProto)
    parameters: list[Schema] = []
    for field, comment in zip(message.proto.field, message.field_comments, strict=True):
        name = f"{prefix}{field.name}"
        if name in bound:
            continue
        nested = field.type == FieldProto.TYPE_MESSAGE
        target = builder.catalog.types.get(field.type_name.lstrip(".")) if nested else None
        if target is not None and field.type_name.lstrip(".") not in _WELL_KNOWN:
            single = field.label != FieldProto.LABEL_REPEATED
            if single and not target.proto.options.map_entry and depth < 3:
                parameters += _query_parameters(builder, target, bound, f"{name}.", depth + 1)
            continue
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": builder.field_schema(field),
                **({"description": comment} if comment else {}),
            }
        )
    return parameters


def _sse(schema: Schema) -> Schema:
    return {
        "text/event-stream": {
            "schema": schema,
            "x-description": "One `data: <JSON>` event per message, flushed as produced.",
        }
    }


def build_document(descriptor_set: bytes) -> dict[str, Any]:
    """The OpenAPI document of every `routeur.v1` service in `descriptor_set`."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set).file
    catalog = _Catalog(files)
    builder = _Builder(catalog)
    paths: dict[str, dict[str, Any]] = {}
    tags = []
    error_response = {
        "description": "An error: the HTTP status follows the gRPC code (AIP-193 details).",
        "content": {"application/json": {"schema": builder.ref(STATUS)}},
    }
    for file in catalog.files:
        if file.package != API_PACKAGE:
            continue
        comments = _comments(file)
        for service_index, service in enumerate(file.service):
            tags.append({"name": service.name, "description": comments.get((6, service_index), "")})
            for method_index, method in enumerate(service.method):
                rule = method.options.Extensions[annotations_pb2.http]
                comment = comments.get((6, service_index, 2, method_index), "")
                for binding_index, (verb, template, body) in enumerate(_rules(rule)):
                    operation = _operation(
                        builder, service.name, method, comment, template, body, error_response
                    )
                    suffix = f"_{binding_index}" if binding_index else ""
                    operation["operationId"] = f"{service.name}_{method.name}{suffix}"
                    path = _TEMPLATE_VARIABLE.sub(r"{\1}", template)
                    paths.setdefault(path, {})[verb] = operation
    _document_stream_switches(paths)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Routeur REST API",
            "version": __version__,
            "description": (
                "The REST/JSON face of Routeur's gRPC services, served by Envoy's gRPC-JSON "
                "transcoder. Generated from the protos by `routeur_grpc.gateway.openapi`. "
                "Send `Authorization: Bearer <token>` (see `POST /auth/token`)."
            ),
        },
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": dict(sorted(builder.schemas.items())),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}, {}],
    }


def _operation(
    builder: _Builder,
    service: str,
    method: descriptor_pb2.MethodDescriptorProto,
    comment: str,
    template: str,
    body: str,
    error_response: Schema,
) -> dict[str, Any]:
    catalog = builder.catalog
    request = catalog.message(method.input_type)
    path_fields = _TEMPLATE_VARIABLE.findall(template)
    operation: dict[str, Any] = {
        "tags": [service],
        "summary": comment.split(". ")[0].rstrip(".") if comment else method.name,
        "description": comment,
    }
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": builder.field_schema(_field_at(catalog, request, name)),
            **({"description": text} if (text := _comment_of(catalog, request, name)) else {}),
        }
        for name in path_fields
    ]
    if body == "*":
        if path_fields:
            schema = builder.object_schema(request, exclude=path_fields)
        else:
            schema = builder.ref(request.full_name)
        if method.client_streaming:
            schema = {"type": "array", "items": schema}
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    elif body:
        field = _field_at(catalog, request, body)
        if field.type_name.lstrip(".") == HTTP_BODY:
            content = dict(_UPLOAD_CONTENT)
            others = _query_parameters(builder, request, {*path_fields, body})
            parameters += others
        else:
            content = {"application/json": {"schema": builder.field_schema(field)}}
        operation["requestBody"] = {"required": True, "content": content}
    else:
        parameters += _query_parameters(builder, request, set(path_fields))
    if parameters:
        operation["parameters"] = parameters
    output = method.output_type.lstrip(".")
    if output == HTTP_BODY:
        content = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    elif method.server_streaming:
        content = _sse(builder.ref(output))
    else:
        content = {"application/json": {"schema": builder.ref(output)}}
    operation["responses"] = {
        "200": {"description": "Success.", "content": content},
        "default": error_response,
    }
    return operation


def _document_stream_switches(paths: dict[str, dict[str, Any]]) -> None:
    """A `"stream": true` POST to a switched path answers as the streaming method does."""
    for path, stream_path in STREAM_SWITCHES.items():
        plain = paths.get(path, {}).get("post")
        streaming = paths.get(stream_path, {}).get("post")
        if plain is None or streaming is None:
            continue
        plain["responses"]["200"]["content"].update(streaming["responses"]["200"]["content"])
        plain["description"] += (
            f'\n\nWith `"stream": true` in the body the gateway sends the request to '
            f"`POST {stream_path}` and the answer is a Server-Sent Events stream."
        )


def render(descriptor_path: Path) -> str:
    """The document as stable, indented JSON text."""
    document = build_document(descriptor_path.read_bytes())
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(
            "usage: python tools/openapi.py DESCRIPTOR_SET OUTPUT", file=sys.stderr
        )
        return 2
    Path(args[1]).write_text(render(Path(args[0])), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
