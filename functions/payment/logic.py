"""Payment's rules: the validation order, Idempotency-Key, the pending -> completed | failed
state machine, and resolving payments whose posting had no answer.

A payment is written only once every check has passed. It is inserted `pending` (and
committed) before Wallet is asked to post; Wallet's answer then completes or fails it.
When Wallet gives no answer the payment stays pending: the posting is idempotent by the
payment id, so a retry with the same key or the scheduled reconciler re-sends it safely.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from finflow import contracts, events, ids, metrics, money
from finflow.config import settings
from finflow.db import engine, one_statement, reading
from finflow.http import Principal, Problem, require_user
from finflow.problems import unavailable
from finflow.service_client import ServiceUnavailable
from functions.payment import checks, rules, store, wallet_client
from functions.payment.schemas import Payment, PaymentPage, TransferRequest, WalletAmountRequest
from functions.payment.tables import outbox
from functions.payment.wallet_client import PostingRefused

obs = wallet_client.obs

LEASE_SECONDS = 30.0  # longer than a posting call can take with its retries (4 x 2 s + backoff)
REPLAY_WAIT_SECONDS = 10.0  # how long a same-key request waits for the first one's answer
RECONCILE_MIN_AGE_SECONDS = 5.0
_POLL_SECONDS = (0.02, 0.05, 0.1, 0.2)  # then 0.2 s until the wait is over


def _db():
    return engine("payment")


def _publish() -> None:
    events.publish_after_commit(_db(), outbox, "payment", obs)


@dataclass(frozen=True)
class Outcome:
    """A final answer to a payment request: status and the exact JSON text sent."""

    status: int
    body: str
    replayed: bool = False


# --- the checks, from Payment's replicas ------------------------------------------------


def _unavailable(target: str = "wallet") -> Problem:
    # Auth only stands in the way when the service token cannot be had: name it then.
    name = "Auth" if target == "auth" else "Wallet"
    return unavailable(f"{name} service unavailable")


def _pending_problem(payment_id: str) -> Problem:
    return unavailable(
        f"Wallet service unavailable; payment {payment_id} is pending and will be resolved automatically"
    )


def _plan(p: Principal, kind: str, req, source: str | None, destination: str | None) -> checks.Plan:
    """The checks in the documented order, from the replicas alone (no call): a refusal they
    are sure of, or the plan the posting carries (Wallet re-checks it and has the last word)."""
    wanted = [w for w in map(ids.canonical, (source, destination)) if w]
    with reading("payment") as conn:
        kyc_status, rows = store.replicated(conn, p.subject, wanted)
    wallets = {w: checks.Replica(r.wallet_id, r.user_id, r.currency, r.status) for w, r in rows.items()}
    return checks.plan(
        kind,
        p.subject,
        kyc_status,
        wallets,
        source=source,
        destination=destination,
        amount=req.amount,
        max_amount=settings().max_amount,
    )


# --- the three operations ---------------------------------------------------------------


def _start(p: Principal, kind: str, req, key: str | None) -> tuple[str | None, str]:
    """Common opening of every operation: user only, the key's form and the request's hash.
    A key used before is found when the pending row cannot be inserted under it (_execute), or
    before a check's refusal (_checked): no read of it on the way of a new request."""
    require_user(p)
    return rules.idempotency_key(key), rules.request_hash(kind, req.model_dump())


def _checked(
    p: Principal, kind: str, req, key: str | None, digest: str, source: str | None, destination: str | None
) -> checks.Plan:
    """The plan; a refusal of a request whose key was used before answers what that use did."""
    try:
        return _plan(p, kind, req, source, destination)
    except Problem:
        if key and (replay := _replay(p.subject, key, digest)):
            raise _Replayed(replay) from None
        raise


class _Replayed(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def _replayable(operation):
    def run(*args):
        try:
            return operation(*args)
        except _Replayed as replay:
            return replay.outcome

    return run


@_replayable
def transfer(p: Principal, req: TransferRequest, key: str | None) -> Outcome:
    key, digest = _start(p, "transfer", req, key)
    plan = _checked(p, "transfer", req, key, digest, req.from_wallet_id, req.to_wallet_id)
    return _execute(p, "transfer", plan, req, key, digest)


@_replayable
def deposit(p: Principal, req: WalletAmountRequest, key: str | None) -> Outcome:
    """A simulated top-up from an external funding source into the caller's wallet."""
    key, digest = _start(p, "deposit", req, key)
    return _execute(p, "deposit", _checked(p, "deposit", req, key, digest, None, req.wallet_id), req, key, digest)


@_replayable
def withdraw(p: Principal, req: WalletAmountRequest, key: str | None) -> Outcome:
    key, digest = _start(p, "withdrawal", req, key)
    plan = _checked(p, "withdrawal", req, key, digest, req.wallet_id, None)
    return _execute(p, "withdrawal", plan, req, key, digest)


# --- Idempotency-Key -------------------------------------------------------------------


def _replay(user_id: str, key: str, digest: str) -> Outcome | None:
    """The answer for a key this user already used: None if unused; 409 for another
    request; the stored final answer; or, while the first request is still running,
    wait for it. A payment left pending by an outage is driven again here."""
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    attempt = 0
    while True:  # until an answer, a lease or the deadline
        with reading("payment") as conn:
            row = store.by_key(conn, user_id, key)
        if row is None:
            return None
        if row.request_hash != digest:
            raise Problem(409, "Idempotency-Key was already used with a different request")
        if row.response_status is not None:
            return Outcome(row.response_status, row.response_body, replayed=True)
        with _db().begin() as conn:
            leased = store.take_lease(conn, row.id, LEASE_SECONDS)
        if leased is not None:  # its first request gave up (outage) or died: finish it now
            outcome = _drive(leased)
            if outcome is None:
                raise _pending_problem(row.id)
            return Outcome(outcome.status, outcome.body, replayed=True)
        if time.monotonic() >= deadline:
            raise _pending_problem(row.id)
        time.sleep(_POLL_SECONDS[min(attempt, len(_POLL_SECONDS) - 1)])
        attempt += 1


# --- write, post, resolve ----------------------------------------------------------------


def _execute(p: Principal, kind: str, plan: checks.Plan, req, key: str | None, digest: str) -> Outcome:
    """Write the payment pending (committed before any money can move), then post it."""
    with one_statement("payment") as conn:  # committed when the INSERT returns
        row = store.insert_pending(
            conn,
            lease_seconds=LEASE_SECONDS,
            id=str(uuid.uuid4()),
            kind=kind,
            amount_minor=plan.amount_minor,
            currency=plan.currency,
            requested_amount=None if plan.amount_minor is not None else json.dumps(req.amount),
            from_wallet_id=plan.source_id,
            to_wallet_id=plan.destination_id,
            # The initiator must own the wallet money leaves (a deposit: the wallet it enters),
            # or Wallet refuses and this row goes; a payee is named once a check confirmed it.
            from_user_id=p.subject if kind != "deposit" else None,
            to_user_id=p.subject if kind == "deposit" else plan.destination_owner if plan.decided_here else None,
            initiator_user_id=p.subject,
            description=getattr(req, "description", None),
            idempotency_key=key,
            request_hash=digest,
        )
    if row is None:
        # The key was used before, or by a concurrent request that claimed it first: answer as it does.
        replay = _replay(p.subject, key, digest) if key else None
        if replay is None:  # its check refused it (nothing stored): ours is a new request
            return _execute(p, kind, plan, req, key, digest)
        return replay
    outcome = _drive(row, first=True)
    if outcome is None:
        raise _pending_problem(row.id)
    return outcome


def _posting(row) -> contracts.PostingRequest:
    """The posting for a payment, built from the row alone, so every re-send is identical.
    Wallet applies the payment's checks again (initiator) and converts a requested amount."""
    return contracts.PostingRequest(
        posting_id=row.id,
        kind=row.kind,
        debit_wallet_id=row.from_wallet_id,
        credit_wallet_id=row.to_wallet_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        requested_amount=row.requested_amount,
        initiator_user_id=row.initiator_user_id,
        description=row.description,
    )


def _drive(row, first: bool = False) -> Outcome | None:
    """Send the posting of a leased pending payment and record what Wallet answered.
    None: no answer, or none recorded (the payment stays pending, lease released for the
    next try)."""
    try:
        return _post_and_record(row, first)
    except DBAPIError:
        # Payment's database failed while recording Wallet's answer (e.g. its connection
        # dropped): the money may have moved, the payment is still pending. Free the lease, so
        # a retry with the same key (or the reconciler) resolves it now rather than in 30 s.
        obs.logger.warning(
            "recording the posting's outcome failed: payment stays pending", extra={"payment_id": row.id}, exc_info=True
        )
        _release(row.id)
        return None
    except Exception:
        _release(row.id)
        raise


def _post_and_record(row, first: bool) -> Outcome | None:
    try:
        applied = wallet_client.post(_posting(row))
    except ServiceUnavailable as exc:
        if first and not exc.sent:  # never sent (open breaker, no service token): as if never asked
            with _db().begin() as conn:
                store.withdraw_pending(conn, row.id)
            raise _unavailable(exc.target) from None
        obs.logger.warning(
            "posting unanswered: payment stays pending",
            extra={"payment_id": row.id, "target": exc.target, "reason": exc.reason},
        )
        _release(row.id)
        return None
    except PostingRefused as refused:
        refusal = refused.refusal
        problem = rules.refusal(row.kind, refusal) if refusal else None
        if refusal is None or problem is None:
            obs.logger.error(
                "posting refused unexpectedly: payment stays pending",
                extra={"payment_id": row.id, "status": refused.status, "code": refused.code, "detail": refused.detail},
            )
            _release(row.id)
            return None
        if refusal.rule == "insufficient-funds":
            # documented: the payment is recorded as failed, with the amount Wallet converted
            return _fail(row.id, problem, amount_minor=refusal.amount_minor, currency=refusal.currency)
        return _withdraw(row.id, problem)
    return _complete(row, applied)


def _release(payment_id: str) -> None:
    try:
        with _db().begin() as conn:
            store.release_lease(conn, payment_id)
    except Exception:
        obs.logger.warning("could not release lease", extra={"payment_id": payment_id}, exc_info=True)


def _learned(row, applied: contracts.PaymentReadsPostingResult | None) -> dict:
    """What Wallet's applied posting settles that the row did not know: the amount and
    currency Wallet converted, and the payee, for a wallet Payment had not yet heard of."""
    if applied is None:
        return {}
    learned: dict = {}
    if row.amount_minor is None:
        learned |= {"amount_minor": applied.amount_minor, "currency": applied.currency}
    if row.kind == "transfer" and row.to_user_id is None:
        payee = next((e.user_id for e in applied.entries if e.wallet_id == row.to_wallet_id), None)
        learned["to_user_id"] = payee
    return learned


def _complete(pending, applied: contracts.PaymentReadsPostingResult | None = None) -> Outcome:
    """`pending`: the leased row as it was sent; what completion fills in is only what it lacked."""
    payment_id = pending.id
    with _db().begin() as conn:
        row = store.complete(conn, payment_id, **_learned(pending, applied))
        if row is None:  # resolved meanwhile by someone else: their answer stands
            return _stored(conn, payment_id)
        body = json.dumps(to_payment(row).model_dump(mode="json"))
        answer = store.answer(payment_id, 201, body)  # stored with the event: one round trip
        events.record(conn, outbox, "PaymentCompleted", completed_event(row), alongside=answer)
    _publish()
    metrics.payment_completed(row.kind)
    obs.logger.info("payment completed", extra={"payment_id": payment_id, "kind": row.kind})
    return Outcome(201, body)


def _withdraw(payment_id: str, problem: Problem) -> Outcome:
    """A check refused the posting (a replica was stale or had not heard of a wallet): nothing
    moved, so nothing is kept, as when Payment's own check refuses; the answer is the check's."""
    with _db().begin() as conn:
        if not store.withdraw_pending(conn, payment_id):
            return _stored(conn, payment_id)
    obs.logger.info(
        "payment refused by the posting's checks", extra={"payment_id": payment_id, "reason": problem.detail}
    )
    return Outcome(problem.status, rules.problem_body(problem))


def _fail(
    payment_id: str, problem: Problem, *, amount_minor: int | None = None, currency: str | None = None
) -> Outcome:
    with _db().begin() as conn:
        learned = {"amount_minor": amount_minor, "currency": currency} if amount_minor and currency else {}
        row = store.fail(conn, payment_id, problem.detail, **learned)
        if row is None:
            return _stored(conn, payment_id)
        body = rules.problem_body(problem)
        answer = store.answer(payment_id, problem.status, body)
        events.record(conn, outbox, "PaymentFailed", failed_event(row), alongside=answer)
    _publish()
    metrics.payment_failed(row.kind, problem.code)
    obs.logger.info("payment failed", extra={"payment_id": payment_id, "reason": problem.detail})
    return Outcome(problem.status, body)


def _stored(conn, payment_id: str) -> Outcome:
    row = store.by_id(conn, payment_id)
    if row is None:  # callers read back a payment their own transaction found
        raise LookupError(f"payment {payment_id} has no stored answer")
    return Outcome(row.response_status, row.response_body)


# --- reads ------------------------------------------------------------------------------


def get(p: Principal, payment_id: str) -> Payment:
    require_user(p)
    row = None
    if ids.canonical(payment_id) is not None:
        with reading("payment") as conn:
            row = store.by_id(conn, payment_id)
    # Strangers get the same answer whether the payment exists or not.
    if row is None or not (p.is_admin or p.subject in (row.from_user_id, row.to_user_id)):
        raise Problem(404, "Payment not found")
    return to_payment(row)


def list_mine(p: Principal, limit: int, cursor: str | None) -> PaymentPage:
    require_user(p)
    if not 1 <= limit <= settings().page_size_max:
        raise Problem(422, f"limit must be between 1 and {settings().page_size_max}")
    after = rules.decode_cursor(cursor)
    with reading("payment") as conn:
        rows = store.page_for_user(conn, p.subject, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return PaymentPage(
        items=[to_payment(r) for r in rows],
        next_cursor=rules.encode_cursor(rows[-1].created_at, rows[-1].id) if more else None,
    )


# --- the reconciler ---------------------------------------------------------------------


def reconcile(min_age_seconds: float = RECONCILE_MIN_AGE_SECONDS, limit: int = 100) -> dict[str, int]:
    """Resolve pending payments nobody is driving: if Wallet applied the posting, complete
    the payment; if not, re-send the identical posting (applied or refused now). Wallet
    still unavailable: the payment stays pending for the next run."""
    with _db().begin() as conn:
        rows = store.lease_stale_pending(
            conn, min_age_seconds=min_age_seconds, lease_seconds=LEASE_SECONDS, limit=limit
        )
    counts: Counter[str] = Counter()
    for row in rows:
        try:
            counts[_reconcile_one(row)] += 1
        except Exception:
            obs.logger.exception("reconciling a payment failed", extra={"payment_id": row.id})
            counts["error"] += 1
    if rows:
        obs.logger.info("reconciled pending payments", extra=dict(counts))
    return {k: counts.get(k, 0) for k in ("completed", "failed", "pending", "error")}


def _reconcile_one(row) -> str:
    try:
        applied = wallet_client.find_posting(row.id)
    except ServiceUnavailable:
        _release(row.id)
        return "pending"
    if applied is not None:
        # an amount Wallet converted (row.amount_minor unknown) is whatever Wallet applied
        known = row.amount_minor is not None
        if applied.kind != row.kind or (
            known and (applied.amount_minor, applied.currency) != (row.amount_minor, row.currency)
        ):
            obs.logger.error("posting differs from its payment: left pending for review", extra={"payment_id": row.id})
            return "pending"  # the lease expires; an operator has to look at this one
        outcome: Outcome | None = _complete(row, applied)
    else:
        outcome = _drive(row)
    if outcome is None:
        return "pending"
    return "completed" if outcome.status < 400 else "failed"


# --- wire formats -----------------------------------------------------------------------


def to_payment(row) -> Payment:
    return Payment(
        id=row.id,
        kind=row.kind,
        status=row.status,
        # a pending payment whose wallet Payment had not yet heard of: the amount as asked
        amount=money.to_decimal_string(row.amount_minor, row.currency)
        if row.amount_minor is not None
        else rules.canonical_amount(json.loads(row.requested_amount)),
        currency=row.currency,
        from_wallet_id=row.from_wallet_id,
        to_wallet_id=row.to_wallet_id,
        description=row.description,
        failure_reason=row.failure_reason,
        created_at=row.created_at,
        completed_at=row.completed_at,
    )


def completed_event(row) -> dict:
    return contracts.PaymentCompleted(
        payment_id=row.id,
        kind=row.kind,
        from_wallet_id=row.from_wallet_id,
        to_wallet_id=row.to_wallet_id,
        from_user_id=row.from_user_id,
        to_user_id=row.to_user_id,
        amount=money.to_decimal_string(row.amount_minor, row.currency),
        amount_minor=row.amount_minor,
        currency=row.currency,
        description=row.description,
        completed_at=row.completed_at,
    ).model_dump(mode="json")


def failed_event(row) -> dict:
    return contracts.PaymentFailed(
        payment_id=row.id,
        kind=row.kind,
        from_wallet_id=row.from_wallet_id,
        to_wallet_id=row.to_wallet_id,
        amount=money.to_decimal_string(row.amount_minor, row.currency),
        amount_minor=row.amount_minor,
        currency=row.currency,
        reason=row.failure_reason,
        failed_at=row.failed_at,
    ).model_dump(mode="json")
