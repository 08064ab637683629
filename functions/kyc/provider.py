"""Identity verification providers. A provider looks at a submission and decides, or
answers None when a human (compliance) has to decide.

Only the simulated provider exists; a real one (Onfido, Veriff, ...) would implement the
same Protocol, and would be called asynchronously rather than inside the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from finflow.contracts import DocumentType

ACCEPTED_DOCUMENT_TYPES: frozenset[str] = frozenset(get_args(DocumentType))


@dataclass(frozen=True)
class SubmissionView:
    """What a provider sees of a submission."""

    id: str
    user_id: str
    document_type: str
    document_url: str | None
    document_key: str | None


@dataclass(frozen=True)
class Decision:
    status: Literal["verified", "rejected"]
    reason: str | None = None


class VerificationProvider(Protocol):
    name: str

    def check(self, submission: SubmissionView) -> Decision | None:
        """A decision, or None: needs a human."""


class SimulatedProvider:
    """Deterministic, for local runs and tests. The API has already checked that the
    document reference is well-formed (see docs/decisions.md), so it verifies every
    submission of an accepted document type, except:

    - a document_url containing "reject" (any case) is rejected, so tests and demos can
      exercise a rejection;
    - a document_url containing "review" is left for a human (None).
    """

    name = "simulated"

    def check(self, submission: SubmissionView) -> Decision | None:
        if submission.document_type not in ACCEPTED_DOCUMENT_TYPES:
            return Decision("rejected", f"document type {submission.document_type!r} is not accepted")
        url = (submission.document_url or "").lower()
        if "reject" in url:
            return Decision("rejected", "the document could not be verified (simulated provider)")
        if "review" in url:
            return None
        return Decision("verified", "document verified (simulated provider)")


def provider() -> VerificationProvider:
    return SimulatedProvider()
