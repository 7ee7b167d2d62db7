"""Serving `/metrics` to Prometheus on its own port, from a small thread.

The exposition is pulled rarely (every few seconds) and must never wait behind the event
loop: prometheus-client's own HTTP server runs in a thread beside it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, multiprocess, start_http_server

from routeur_grpc.observability.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_metrics_server(metrics: Metrics, host: str, port: int) -> MetricsServer:
    """Listen on host:port (0: any free port) and answer `/metrics`."""
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    running = MetricsServer(server, thread)
    log.info("metrics listening", extra={"url": f"http://{host}:{running.port}/metrics"})
    return running


def start_multiprocess_metrics_server(directory: Path, host: str, port: int) -> MetricsServer:
    """The same, adding up the figures every worker process writes in `directory`
    (prometheus-client's multiprocess mode)."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    server, thread = start_http_server(port, addr=host, registry=registry)
    running = MetricsServer(server, thread)
    log.info("metrics listening", extra={"url": f"http://{host}:{running.port}/metrics"})
    return running
