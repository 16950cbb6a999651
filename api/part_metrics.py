"""The process's parts in Prometheus: up, state, and each part's numbers, read at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.clock import Clock
from core.health import Part, PartState


def metric_name(fact: str) -> str:
    """``last_pass_age_s`` → ``vigie_part_last_pass_age_seconds`` (Prometheus base units)."""
    return "vigie_part_" + (fact.removesuffix("_s") + "_seconds" if fact.endswith("_s") else fact)


class PartsCollector(Collector):
    """What ``/health`` says of each part, as gauges labelled by part."""

    def __init__(self, parts: Callable[[], Sequence[Part]], clock: Clock) -> None:
        self._parts = parts
        self._clock = clock

    def collect(self) -> Iterable[Metric]:
        now = self._clock.now()
        statuses = [part.status(now) for part in self._parts()]
        up = GaugeMetricFamily("vigie_part_up", "1 when the part is healthy", labels=["part"])
        state = GaugeMetricFamily(
            "vigie_part_state", "1 for the part's current state", labels=["part", "state"]
        )
        facts: dict[str, GaugeMetricFamily] = {}
        for status in statuses:
            up.add_metric([status.name], float(status.ok))
            for s in PartState:
                state.add_metric([status.name, s.value], float(s is status.state))
            for fact, value in status.facts.items():
                if value is None or isinstance(value, str):
                    continue  # never happened (an age of nothing), or not a number
                name = metric_name(fact)
                family = facts.setdefault(
                    name, GaugeMetricFamily(name, f"Part {fact.replace('_', ' ')}", labels=["part"])
                )
                family.add_metric([status.name], float(value))
        yield up
        yield state
        yield from facts.values()
