"""Reporting API routes (`/api/reports/...`): thin handlers over functions.reporting.logic.
Analysts and admins read every report; compliance officers read the AML report too."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from finflow.health import add_health
from finflow.http import documented, json_response, lambda_handler, make_resolver, principal
from functions.reporting import freshness, logic, search
from functions.reporting.projections import obs
from functions.reporting.schemas import AmlReport, Daily, KycFunnel, SearchResult, Summary

app = make_resolver("reporting", "Reporting & Analytics")
add_health(
    app, "reporting", checks={"search": lambda: search.engine().check()}, extra_dependencies=freshness.upstream_statuses
)
# strings, checked by functions.reporting.params: every bad value is a 422 that names it
Param = Annotated[str | None, Query()]
# every report is role-restricted (403)
REPORT = documented(200, None, 403)
From = Annotated[str | None, Query(alias="from")]


@app.get(
    "/api/reports/summary",
    responses=REPORT,
    operation_id="reporting_summary",
    summary="Users, wallets and payments at a glance (analyst)",
)
def summary() -> Summary:
    return logic.summary(principal(app))


@app.get(
    "/api/reports/payments/daily",
    responses=documented(200, Daily, 403),
    operation_id="reporting_daily",
    summary="Payments per day and currency (analyst)",
)
def daily(from_: From = None, to: Param = None, currency: Param = None):
    return json_response(logic.daily(principal(app), from_, to, currency))


@app.get(
    "/api/reports/payments/search",
    responses=REPORT,
    operation_id="reporting_search_payments",
    summary="Search payments (analyst)",
)
def search_payments(
    q: Param = None,
    currency: Param = None,
    min_amount: Param = None,
    max_amount: Param = None,
    from_: From = None,
    to: Param = None,
    limit: Param = None,
    cursor: Param = None,
) -> SearchResult:
    return logic.search_payments(
        principal(app),
        q=q,
        currency_code=currency,
        min_amount=min_amount,
        max_amount=max_amount,
        start=from_,
        end=to,
        page_size=limit,
        cursor=cursor,
    )


@app.get(
    "/api/reports/kyc-funnel", responses=REPORT, operation_id="reporting_kyc_funnel", summary="The KYC funnel (analyst)"
)
def kyc_funnel() -> KycFunnel:
    return logic.kyc_funnel(principal(app))


@app.get(
    "/api/reports/aml",
    responses=REPORT,
    operation_id="reporting_aml",
    summary="AML alerts and outcomes (analyst, compliance)",
)
def aml() -> AmlReport:
    return logic.aml(principal(app))


handler = lambda_handler(app, obs)
