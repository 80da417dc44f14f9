"""/metrics: Prometheus metrics (django-prometheus for requests, plus T5G's own).

Sync and card metrics are read from the database at scrape time, so every process (web, any
worker) counts, and nothing is lost when a worker restarts. Upstream request and view-cache
counters are kept in Redis by every process (t5g/counters.py) and read here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from .callers import monitor
from .counters import BUCKETS, UPSTREAM_BUCKETS, UPSTREAM_REQUESTS, UPSTREAM_SECONDS, VIEW_CACHE, redis_connection
from .models import SyncRun, UpstreamWrite
from .sync.freshness import source_freshness

log = logging.getLogger(__name__)


class T5GCollector:
    """T5G's own metrics, computed at each scrape."""

    def collect(self) -> Iterator:
        yield from self._sync()
        yield from self._cards()
        yield from self._redis_counters()

    def _sync(self) -> Iterator:

        now = timezone.now()
        Outcome = SyncRun.Outcome
        rows = SyncRun.objects.values("source").annotate(
            failures=Count("pk", filter=Q(outcome=Outcome.FAILED)),
            running=Count("pk", filter=Q(outcome=Outcome.RUNNING)),
            last_finished=Max("pk", filter=Q(finished_at__isnull=False)),
        )
        by_source = {row["source"]: row for row in rows}
        last_runs = SyncRun.objects.in_bulk([r["last_finished"] for r in rows if r["last_finished"]])

        since = GaugeMetricFamily(
            "t5g_sync_seconds_since_success", "Seconds since the source last synced successfully", labels=["source"]
        )
        success = GaugeMetricFamily(
            "t5g_sync_last_success_timestamp_seconds", "When the source last synced successfully", labels=["source"]
        )
        failing = GaugeMetricFamily(
            "t5g_sync_failing", "1 when the source's latest finished run failed", labels=["source"]
        )
        failures = CounterMetricFamily("t5g_sync_failures", "Runs that failed after their retries", labels=["source"])
        running = GaugeMetricFamily("t5g_sync_running", "Runs in progress", labels=["source"])
        duration = GaugeMetricFamily(
            "t5g_sync_last_duration_seconds", "Duration of the source's latest finished run", labels=["source"]
        )
        rows_metric = GaugeMetricFamily(
            "t5g_sync_last_rows", "Rows of the source's latest finished run, by kind", labels=["source", "kind"]
        )
        for state in source_freshness():
            source, row = state.source, by_source.get(state.source, {})
            if state.last_success:
                since.add_metric([source], (now - state.last_success).total_seconds())
                success.add_metric([source], state.last_success.timestamp())
            failing.add_metric([source], float(state.failing))
            failures.add_metric([source], row.get("failures", 0))
            running.add_metric([source], row.get("running", 0))
            run = last_runs.get(row.get("last_finished"))
            if run:
                duration.add_metric([source], run.duration.total_seconds())
                for kind in ("fetched", "created", "updated", "unchanged", "rejected"):
                    rows_metric.add_metric([source, kind], getattr(run, kind))
        yield from (since, success, failing, failures, running, duration, rows_metric)

    def _cards(self) -> Iterator:
        created = UpstreamWrite.objects.filter(action="create card", outcome=UpstreamWrite.Outcome.OK).count()
        yield CounterMetricFamily("t5g_cards_created", "JIRA cards T5G created", value=created)
        writes = CounterMetricFamily(
            "t5g_upstream_writes", "Writes T5G sent (or refused) upstream, by outcome", labels=["upstream", "outcome"]
        )
        for row in UpstreamWrite.objects.values("upstream", "outcome").annotate(n=Count("pk")):
            writes.add_metric([row["upstream"], row["outcome"]], row["n"])
        yield writes

    def _redis_counters(self) -> Iterator:
        try:
            pipe = redis_connection().pipeline(transaction=False)
            for key in (UPSTREAM_REQUESTS, UPSTREAM_SECONDS, UPSTREAM_BUCKETS, VIEW_CACHE):
                pipe.hgetall(key)
            requests_, seconds, buckets, view_cache = (
                {k.decode(): float(v) for k, v in h.items()} for h in pipe.execute()
            )
        except Exception:  # noqa: BLE001 - Redis down: these are simply missing from this scrape
            log.debug("metrics: Redis unreachable", exc_info=True)
            return
        counts = CounterMetricFamily(
            "t5g_upstream_requests", "Upstream requests by final status", labels=["upstream", "status"]
        )
        totals: dict[str, float] = {}
        for field, value in sorted(requests_.items()):
            upstream, status = field.split("|", 1)
            counts.add_metric([upstream, status], value)
            totals[upstream] = totals.get(upstream, 0) + value
        yield counts
        latency = HistogramMetricFamily(
            "t5g_upstream_request_seconds", "Upstream request latency, retries included", labels=["upstream"]
        )
        for upstream, total in sorted(totals.items()):
            cumulative = [(str(le), buckets.get(f"{upstream}|{le}", 0)) for le in BUCKETS]
            latency.add_metric([upstream], [*cumulative, ("+Inf", total)], sum_value=seconds.get(upstream, 0))
        yield latency
        hits, misses = view_cache.get("hit", 0), view_cache.get("miss", 0)
        cache = CounterMetricFamily("t5g_view_cache_requests", "Cached views served, by result", labels=["result"])
        cache.add_metric(["hit"], hits)
        cache.add_metric(["miss"], misses)
        yield cache
        if hits + misses:
            ratio = hits / (hits + misses)
            yield GaugeMetricFamily("t5g_view_cache_hit_ratio", "Share of cached-view reads that hit", ratio)


T5G_REGISTRY = CollectorRegistry(auto_describe=False)
T5G_REGISTRY.register(T5GCollector())


@require_GET
@login_not_required
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text: a bearer token (METRICS_TOKEN) or an allowed address (METRICS_ALLOWED_IPS)."""
    if not monitor(request):
        return HttpResponse("metrics need the METRICS_TOKEN bearer token\n", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several gunicorn workers: each wrote its request metrics to files there.
        base = CollectorRegistry()
        MultiProcessCollector(base)
    else:
        base = REGISTRY
    return HttpResponse(generate_latest(base) + generate_latest(T5G_REGISTRY), content_type=CONTENT_TYPE_LATEST)
