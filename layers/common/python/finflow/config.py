"""Environment settings, modelled once (pydantic-settings). Logic never reads os.environ."""

from __future__ import annotations

from functools import cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="")

    stage: str = Field("dev", alias="FINFLOW_STAGE")
    # The public gateway (the JWKS, dependency health probes).
    api_url: str = Field("http://127.0.0.1:8000", alias="FINFLOW_API_URL")
    # Modules call each other privately, invoking the callee's API function: callee module ->
    # its function name (`name:alias` on AWS), JSON; set per caller by the deployment and the devserver.
    callees: dict[str, str] = Field(default_factory=dict, alias="FINFLOW_CALLEES")
    # Either a server URL (each module gets its own database on it) or, in AWS, one
    # Secrets Manager secret per module (DB_SECRET_ARN is set on that module's functions).
    database_url: str | None = Field(None, alias="DATABASE_URL")
    db_secret_arn: str | None = Field(None, alias="DB_SECRET_ARN")
    db_name_prefix: str = Field("", alias="FINFLOW_DB_PREFIX")
    db_pool_size: int = Field(5, alias="FINFLOW_DB_POOL_SIZE")

    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    event_bus_name: str = Field("finflow", alias="EVENT_BUS_NAME")

    jwt_issuer: str = Field("https://auth.finflow.local", alias="JWT_ISSUER")
    jwt_audience: str = Field("finflow-api", alias="JWT_AUDIENCE")
    jwt_keys_secret_id: str = Field("finflow/auth/jwt-keys", alias="JWT_KEYS_SECRET_ID")
    jwks_url: str | None = Field(None, alias="JWKS_URL")
    jwks_cache_seconds: int = Field(300, alias="JWKS_CACHE_SECONDS")
    # Verify bearer tokens in the API function itself: set where no gateway authorizer runs in
    # front of it (LocalStack's community edition); behind the authorizer its context is trusted.
    verify_tokens: bool = Field(False, alias="FINFLOW_VERIFY_TOKENS")
    access_token_seconds: int = Field(1800, alias="ACCESS_TOKEN_SECONDS")
    refresh_token_seconds: int = Field(30 * 24 * 3600, alias="REFRESH_TOKEN_SECONDS")
    service_token_seconds: int = Field(900, alias="SERVICE_TOKEN_SECONDS")
    # Secret holding {client_id: bcrypt(secret)} for every module's service identity.
    service_clients_secret_id: str = Field("finflow/auth/service-clients", alias="SERVICE_CLIENTS_SECRET_ID")
    # Prefix of each module's own client credentials secret: <prefix>/<module>.
    service_credentials_prefix: str = Field("finflow/service-credentials", alias="SERVICE_CREDENTIALS_PREFIX")

    # Brute-force throttling of logins: failures per account and per source address within
    # the window lock that account/address out for lock seconds (429 with Retry-After).
    login_max_failures_per_account: int = Field(5, gt=0, alias="LOGIN_MAX_FAILURES_PER_ACCOUNT")
    login_max_failures_per_source: int = Field(50, gt=0, alias="LOGIN_MAX_FAILURES_PER_SOURCE")
    login_failure_window_seconds: int = Field(900, gt=0, alias="LOGIN_FAILURE_WINDOW_SECONDS")
    login_lock_seconds: int = Field(900, gt=0, alias="LOGIN_LOCK_SECONDS")
    bcrypt_rounds: int = Field(12, ge=4, le=16, alias="BCRYPT_ROUNDS")
    max_body_bytes: int = Field(64 * 1024, alias="MAX_BODY_BYTES")
    service_timeout_seconds: float = Field(2.0, alias="SERVICE_TIMEOUT_SECONDS")
    # How long an open circuit breaker fails calls fast before one trial call is let through.
    service_breaker_reset_seconds: float = Field(30.0, gt=0, alias="SERVICE_BREAKER_RESET_SECONDS")
    kyc_auto_verify: bool = Field(False, alias="KYC_AUTO_VERIFY")
    # Wallet trusts its event-fed KYC replica's "verified" for this long after it last learned
    # it (an event or Auth's answer) instead of asking Auth; 0 asks Auth every time.
    kyc_cache_seconds: float = Field(30.0, ge=0, alias="KYC_CACHE_SECONDS")
    # Largest amount of one payment, in major units of its currency (1,000,000.00 USD, 1,000,000 JPY).
    max_amount: int = Field(1_000_000, gt=0, alias="MAX_AMOUNT")
    page_size_max: int = Field(100, gt=0, alias="PAGE_SIZE_MAX")
    # Browser origins allowed to call the API (CORS), comma-separated, e.g.
    # "https://app.example.com,http://localhost:5173"; empty: no CORS headers at all. API Gateway's
    # preflight answers, the functions' response headers and the devserver all read this one setting.
    cors_allowed_origins: str = Field("", alias="CORS_ALLOWED_ORIGINS")

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        origins = [o.strip() for o in value.split(",") if o.strip()]
        for origin in origins:
            scheme, sep, host = origin.partition("://")
            if scheme not in ("http", "https") or not sep or not host or "/" in host or "*" in host:
                raise ValueError(f"CORS_ALLOWED_ORIGINS: {origin!r} is not an origin (scheme://host[:port], no path)")
        return ",".join(origins)

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return tuple(o for o in self.cors_allowed_origins.split(",") if o)

    kyc_documents_bucket: str = Field("finflow-kyc-documents", alias="KYC_DOCUMENTS_BUCKET")
    # users' data exports, one part per module (finflow.exports)
    exports_bucket: str = Field("finflow-user-exports", alias="EXPORTS_BUCKET")
    # Document store (Notification, functions/notification/store.py): a DocumentDB/MongoDB URI
    # (local use, LocalStack) or, in AWS, the DocumentDB cluster's secret (host, port, username,
    # password), read at first use; with neither, Notification keeps its records in PostgreSQL.
    documentdb_uri: str | None = Field(None, alias="DOCUMENTDB_URI")
    documentdb_secret_arn: str | None = Field(None, alias="DOCUMENTDB_SECRET_ARN")
    notification_sender: str = Field("notifications@finflow.dev", alias="NOTIFICATION_SENDER")
    # Notification's daily job reminds users still pending KYC this long after registering.
    kyc_reminder_after_hours: int = Field(24, ge=0, alias="KYC_REMINDER_AFTER_HOURS")
    # Reporting's payment search: an OpenSearch domain (https URL, SigV4 signed) or, when
    # unset, PostgreSQL full-text search in Reporting's own database.
    opensearch_endpoint: str | None = Field(None, alias="OPENSEARCH_ENDPOINT")
    opensearch_index: str = Field("payments", alias="OPENSEARCH_INDEX")
    # The EventBridge archive of the bus, which Reporting's rebuild replays in AWS; unset: the
    # infrastructure's name for it, finflow-<stage>-all.
    event_archive_name: str | None = Field(None, alias="EVENT_ARCHIVE_NAME")


@cache
def settings() -> Settings:
    return Settings()
