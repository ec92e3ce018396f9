"""Prometheus metrics of one server: requests and latency per route, decisions by status, the journal's seq."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics"]

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """A registry of its own (two servers in one process do not mix their counts)."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("omsim_requests", "HTTP requests", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("omsim_request_seconds", "HTTP request latency", ["route", "method"],
                                 buckets=_BUCKETS, registry=self.registry)
        self.decisions = Counter("omsim_decisions", "Orders decided, by status", ["status"], registry=self.registry)
        self.fast_requests = Counter("omsim_fast_requests", "POST /v1/orders and /v1/promise served without the "
                                     "framework's layers (omsim.service.fastpath; the rest go through the route)",
                                     ["route"], registry=self.registry)
        self.batch = Histogram("omsim_writer_batch_commands", "Commands the writer committed per transaction "
                               "(group commit: one fsync for all of them)", buckets=(1, 2, 3, 4, 6, 8, 16, 32, 64, 256),
                               registry=self.registry)
        self.commit = Histogram("omsim_writer_commit_seconds", "The writer's database transaction per batch "
                                "(insert and commit)", buckets=_BUCKETS, registry=self.registry)
        self.seq = Gauge("omsim_journal_seq", "Last journal sequence applied", registry=self.registry)
        self._lat: dict[str, list[float]] = {}

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)
        lat = self._lat.setdefault(f"{method} {route}", [])
        lat.append(seconds)
        if len(lat) > 2000:
            del lat[:1000]

    def recent_latency(self) -> dict[str, tuple[int, float, float]]:
        """Route -> (requests seen lately, p50 ms, p99 ms), for the ops page."""
        out = {}
        for k, v in sorted(self._lat.items()):
            s = sorted(v)
            out[k] = (len(s), 1000 * s[len(s) // 2], 1000 * s[min(len(s) - 1, int(0.99 * len(s)))])
        return out

    def text(self, seq: int) -> bytes:
        self.seq.set(seq)
        return generate_latest(self.registry)
