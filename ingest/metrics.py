"""Ingest counters on the process's Prometheus registry."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_ON: WeakKeyDictionary[CollectorRegistry, IngestMetrics] = WeakKeyDictionary()


class IngestMetrics:
    """Ingest's metrics; ``IngestMetrics.on(registry)`` shares them between pipelines."""

    @classmethod
    def on(cls, registry: CollectorRegistry) -> IngestMetrics:
        metrics = _ON.get(registry)
        if metrics is None:
            metrics = _ON[registry] = cls(registry)
        return metrics

    def __init__(self, registry: CollectorRegistry) -> None:
        self.frames = Counter(
            "vigie_ingest_frames_total",
            "MQTT messages by outcome: stored, deduplicated, dead_lettered, ignored",
            ["outcome"],
            registry=registry,
        )
        self.readings = Counter(
            "vigie_ingest_readings_total",
            "Readings made durable, in the store or in the spool",
            ["destination"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "vigie_ingest_dead_letters_total",
            "Dead letters by reason",
            ["reason"],
            registry=registry,
        )
        self.codec_warnings = Counter(
            "vigie_ingest_codec_warnings_total",
            "Documented values a codec kept aside (no quantity to store them under), by codec",
            ["codec"],
            registry=registry,
        )
        self.spool_depth = Gauge(
            "vigie_ingest_spool_readings", "Readings waiting in the outage spool", registry=registry
        )
        self.lag = Histogram(
            "vigie_ingest_lag_seconds",
            "From the network server's event time to durable storage",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
            registry=registry,
        )
        self.batch = Histogram(
            "vigie_ingest_batch_seconds", "Time to make one batch durable", registry=registry
        )
