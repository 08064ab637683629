from enum import StrEnum


class RolesRequestRolesItem(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    COMPLIANCE = "compliance"
    CUSTOMER = "customer"

    def __str__(self) -> str:
        return str(self.value)
