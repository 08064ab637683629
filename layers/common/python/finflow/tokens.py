"""RS256 access tokens: issue, publish as JWKS, verify (RFC 8725 allow-list).

Claims: iss, aud, sub, exp, iat, jti, roles, kind and a claims version `ver`, so a change
of the token payload can roll out while the previous version is still accepted:

1. deploy every verifier with JWT_ACCEPTED_VERSIONS="1,2" (issuers still sign `ver` 1);
2. switch Auth to JWT_CLAIMS_VERSION=2 (new tokens are 2, tokens in flight stay valid);
3. after the longest token lifetime, drop 1: JWT_ACCEPTED_VERSIONS="2".

The issuing version is always accepted. Unset, both are CLAIMS_VERSION (1).

jwt and cryptography (~30 ms of a cold start) are imported by the functions that sign or
verify: most of Auth's invocations (events, /health, registration) do neither.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from functools import cache, lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ALGORITHMS = ("RS256",)
CLAIMS_VERSION = 1  # the default version issued (JWT_CLAIMS_VERSION overrides)
ACCEPTED_VERSIONS = frozenset({1})  # the default versions verified (JWT_ACCEPTED_VERSIONS overrides)
REQUIRED = ("exp", "iat", "iss", "aud", "sub", "jti")


class VersionSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")
    claims_version: int = Field(CLAIMS_VERSION, alias="JWT_CLAIMS_VERSION", ge=1)
    accepted_versions: str = Field("", alias="JWT_ACCEPTED_VERSIONS")  # "1,2"; empty: the issuing version

    @field_validator("accepted_versions")
    @classmethod
    def _numbers(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip() and not part.strip().isdigit():
                raise ValueError(f"JWT_ACCEPTED_VERSIONS must be comma-separated integers, got {value!r}")
        return value


@cache
def _versions() -> tuple[int, frozenset[int]]:
    s = VersionSettings()
    accepted = {int(p) for p in s.accepted_versions.split(",") if p.strip()}
    if not accepted:
        accepted = set(ACCEPTED_VERSIONS) if s.claims_version == CLAIMS_VERSION else set()
    return s.claims_version, frozenset(accepted | {s.claims_version})


def claims_version() -> int:
    """The `ver` new tokens carry."""
    return _versions()[0]


def accepted_versions() -> frozenset[int]:
    """The `ver` values a verifier accepts (always including the issuing one)."""
    return _versions()[1]


def reset_versions() -> None:
    """Re-read JWT_CLAIMS_VERSION / JWT_ACCEPTED_VERSIONS (tests; a Lambda reads them once)."""
    _versions.cache_clear()


class TokenError(Exception):
    """Why a token was refused; the reason is safe to show to the caller."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str

    def private_key(self):
        return _load_private_key(self.private_pem)

    def public_jwk(self) -> dict:
        from jwt.algorithms import RSAAlgorithm

        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key().public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass(frozen=True)
class KeyRing:
    """The active signing key plus older keys kept for verification during rotation."""

    active_kid: str
    keys: tuple[SigningKey, ...]

    @classmethod
    def from_secret(cls, data: dict) -> KeyRing:
        keys = tuple(SigningKey(k["kid"], k["private_pem"]) for k in data["keys"])
        return cls(active_kid=data["active_kid"], keys=keys)

    def to_secret(self) -> dict:
        return {
            "active_kid": self.active_kid,
            "keys": [{"kid": k.kid, "private_pem": k.private_pem} for k in self.keys],
        }

    @property
    def active(self) -> SigningKey:
        return next(k for k in self.keys if k.kid == self.active_kid)

    def jwks(self) -> dict:
        return {"keys": [k.public_jwk() for k in self.keys]}

    def rotated(self) -> KeyRing:
        """A ring with a fresh active key; the previous active key stays for verification,
        older keys retire (a token outlives at most one rotation)."""
        new = generate_key()
        # keep the key that signed the tokens in flight, wherever it sits in the ring
        return KeyRing(active_kid=new.kid, keys=(new, self.active))


@lru_cache(maxsize=8)  # a ring holds two keys; rotation brings a new one
def _load_private_key(pem: str):
    """Parsing a PEM key checks the RSA key, ~40 ms: once per key and process, not per token."""
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem.encode(), password=None)


def generate_key() -> SigningKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKey(kid=uuid.uuid4().hex[:16], private_pem=pem)


def issue(
    ring: KeyRing,
    *,
    subject: str,
    roles: list[str],
    kind: str,
    issuer: str,
    audience: str,
    ttl: int,
    now: float | None = None,
    version: int | None = None,
) -> str:
    import jwt

    now = int(now if now is not None else time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "roles": sorted(roles),
        "kind": kind,
        "ver": claims_version() if version is None else version,
    }
    return jwt.encode(claims, ring.active.private_key(), algorithm="RS256", headers={"kid": ring.active_kid})


def unverified_kid(token: str) -> str | None:
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError("malformed token") from exc
    if header.get("alg") not in ALGORITHMS:
        # Checked before any key is chosen: no "none", no HS256 keyed with the public key.
        raise TokenError(f"token algorithm {header.get('alg')!r} is not allowed")
    return header.get("kid")


def verify(
    token: str, jwks: dict, *, issuer: str, audience: str, leeway: int = 30, accepted: frozenset[int] | None = None
) -> dict:
    import jwt

    kid = unverified_kid(token)
    jwk = next((k for k in jwks.get("keys", []) if k.get("kid") == kid), None)
    if jwk is None:
        raise TokenError("token signed with an unknown key")
    try:
        claims = jwt.decode(
            token,
            jwt.PyJWK(jwk, algorithm="RS256").key,
            algorithms=list(ALGORITHMS),
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": list(REQUIRED)},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenError("token audience is not accepted") from exc
    except jwt.InvalidIssuerError as exc:
        raise TokenError("token issuer is not accepted") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenError("token signature is invalid") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError(f"token is missing the required {exc.claim!r} claim") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("token is invalid") from exc
    accepted = accepted_versions() if accepted is None else accepted
    ver = claims.get("ver")
    if isinstance(ver, bool) or ver not in accepted:
        raise TokenError(
            f"token claims version {ver!r} is not accepted (accepted: {', '.join(str(v) for v in sorted(accepted))})"
        )
    if claims.get("kind") not in ("user", "service") or not isinstance(claims.get("roles"), list):
        raise TokenError("token claims are malformed")
    return claims
