from enum import StrEnum


class KycStatusViewKycStatus(StrEnum):
    PENDING = "pending"
    REJECTED = "rejected"
    SUBMITTED = "submitted"
    VERIFIED = "verified"

    def __str__(self) -> str:
        return str(self.value)
