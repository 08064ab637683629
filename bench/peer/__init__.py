"""The peer: the seed's architecture written as a fair competitor for `make bench`.

Three FastAPI services on loopback ports (uvicorn), each with its own PostgreSQL database on
the bench's server, calling each other over HTTP with keep-alive clients (httpx):

- auth: users and their KYC status; service tokens (client credentials, RS256);
- wallet: wallets and the double-entry ledger; the payment checks (KYC, asked of Auth unless a
  `verified` was confirmed within KYC_CACHE_SECONDS, as FinFlow's Wallet does) and the postings;
- payment: `POST /transfer` with a user's RS256 token and an Idempotency-Key: checks through
  Wallet, a pending row, the posting through Wallet, the completion.

Fair means what FinFlow must do, no more and no less: every request's token verified with pyjwt
(2048-bit RSA, as FinFlow's keys), the same checks in the same order, the same double-entry
posting (wallets locked in id order, status, currency and funds checked, balances and entries
in one transaction, idempotent by the payment id) on tables with FinFlow's constraints and
indexes, and the pending payment committed before the posting. It publishes no events and has
no retries or circuit breakers: work FinFlow does that the seed did not.
"""
