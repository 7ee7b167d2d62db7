"""/docs serves Swagger UI without internet access; the OpenAPI document lists every route."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import httpx
import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from routeur_grpc.gateway.config import DESCRIPTOR_SET, OPENAPI_DOCUMENT, SWAGGER_UI_DIR



def _openapi_tool():  # type: ignore[no-untyped-def]
    """tools/openapi.py, the build tool that writes gateway/openapi.json."""
    path = Path(__file__).resolve().parents[2] / "tools" / "openapi.py"
    spec = importlib.util.spec_from_file_location("routeur_openapi_tool", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_tool = _openapi_tool()
_TEMPLATE_VARIABLE, _rules, render = _tool._TEMPLATE_VARIABLE, _tool._rules, _tool.render


def _every_http_rule() -> list[tuple[str, str, str]]:
    """(verb, OpenAPI path, Service.Method) of every binding of every routeur.v1 RPC."""
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file
    found = []
    for file in files:
        if file.package != "routeur.v1":
            continue
        for service in file.service:
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                bindings = _rules(rule)
                assert bindings, f"{service.name}.{method.name} has no google.api.http rule"
                for verb, template, _ in bindings:
                    path = _TEMPLATE_VARIABLE.sub(r"{\1}", template)
                    found.append((verb, path, f"{service.name}.{method.name}"))
    return found


def test_the_built_document_is_up_to_date():
    assert OPENAPI_DOCUMENT.read_text() == render(DESCRIPTOR_SET), (
        "gateway/openapi.json is stale: run `make openapi`"
    )


def test_the_document_describes_every_operation_with_comments():
    document = json.loads(OPENAPI_DOCUMENT.read_text())
    assert document["openapi"].startswith("3.")
    for verb, path, name in _every_http_rule():
        operation = document["paths"].get(path, {}).get(verb)
        assert operation is not None, f"{name}: {verb.upper()} {path} missing"
        assert operation["description"], f"{name} has no description"
        assert "default" in operation["responses"]
    complete = document["components"]["schemas"]["CompleteRequest"]["properties"]
    assert complete["message"]["description"].startswith("The new user message")
    streaming = document["paths"]["/completion"]["post"]["responses"]["200"]["content"]
    assert {"application/json", "text/event-stream"} <= streaming.keys()


@pytest.mark.slow
async def test_the_gateway_serves_the_document(rest: httpx.AsyncClient):
    response = await rest.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    for verb, path, name in _every_http_rule():
        assert verb in served["paths"].get(path, {}), f"{name}: {verb.upper()} {path}"


@pytest.mark.slow
async def test_docs_serves_swagger_ui_from_local_files(rest: httpx.AsyncClient):
    assert (SWAGGER_UI_DIR / "swagger-ui-bundle.js").is_file(), (
        "Swagger UI is not vendored: run `make swagger-ui`"
    )
    page = await rest.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'url: "/openapi.json"' in page.text
    assert "https://" not in page.text  # nothing fetched from the internet
    for asset, kind in [
        ("/docs/swagger-ui-bundle.js", "application/javascript"),
        ("/docs/swagger-ui.css", "text/css"),
        ("/docs/favicon-32x32.png", "image/png"),
    ]:
        response = await rest.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["content-type"] == kind
        assert response.content == (SWAGGER_UI_DIR / asset.rsplit("/", 1)[1]).read_bytes()
    bundle = await rest.get("/docs/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.content
