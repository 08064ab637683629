"""Auth's request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

ROLES = ("customer", "compliance", "analyst", "admin")
Role = Literal["customer", "compliance", "analyst", "admin"]


class Strict(BaseModel):
    # Unknown fields are ignored, never applied: `roles` or `kyc_status` in a register
    # body cannot assign anything (no mass assignment).
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class RegisterRequest(Strict):
    # Built on first use: EmailStr imports email_validator (~20 ms of every Auth cold start).
    model_config = ConfigDict(defer_build=True)

    email: EmailStr = Field(max_length=254)
    # 6, not NIST's 8: the seed's own example registers with "pass123" and must keep working.
    password: str = Field(min_length=6, max_length=128)
    name: str = Field(min_length=1, max_length=100)

    @field_validator("password")
    @classmethod
    def _bcrypt_limit(cls, v: str) -> str:
        if len(v.encode()) > 72:  # bcrypt only reads 72 bytes; refuse rather than truncate silently
            raise ValueError("password must be at most 72 bytes")
        return v


class LoginRequest(Strict):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=1, max_length=256)


class RolesRequest(Strict):
    roles: list[Role] = Field(min_length=1, max_length=len(ROLES))


class ClientCredentials(Strict):
    client_id: str = Field(min_length=1, max_length=64)
    client_secret: str = Field(min_length=1, max_length=256)
    grant_type: Literal["client_credentials"] = "client_credentials"


class User(BaseModel):
    id: str
    email: str
    name: str
    kyc_status: str
    roles: list[str]
    created_at: datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class ServiceToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class ErasureRequest(Strict):
    # the user erases their own account: their password again, not just a token that may be stolen
    password: str = Field(min_length=1, max_length=128)


class Erasure(BaseModel):
    """An erasure done in Auth; the other modules follow through the UserErased event."""

    user_id: str
    erased_at: datetime
    status: Literal["erased"] = "erased"


class ExportStatus(BaseModel):
    """A data export: complete once every module holding data about the user wrote its part.
    `parts` maps each module to a 5-minute download link, or null while it is not written yet."""

    export_id: str
    status: Literal["pending", "complete"]
    requested_at: datetime
    parts: dict[str, str | None]
