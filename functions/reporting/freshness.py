"""What /health says about Reporting's upstreams (auth, wallet, payment, kyc).

Reporting calls nobody: it only reads their events. So for each upstream it reports
whether that upstream is producing: the module's own shallow /health, asked in parallel
with a 1 s timeout (finflow.health.dependency_status). A module that is down emits
nothing, so the figures drawn from its events stop moving while Reporting keeps answering
from what it has: any upstream not `healthy` makes Reporting `degraded`, never
`unhealthy` (that is kept for its own database or search engine failing). Events Reporting
itself failed to apply end in its queues' DLQs, which the observability stack alarms on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from finflow.health import dependency_status
from functions import catalog

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reporting-upstreams")


def upstreams() -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.producer for s in catalog.module("reporting").subscriptions))


def upstream_statuses() -> dict[str, str]:
    futures = {catalog.module(key).service: _pool.submit(dependency_status, key) for key in upstreams()}
    return {service: future.result() for service, future in futures.items()}
