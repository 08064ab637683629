from enum import StrEnum


class SubmitRequestDocumentType(StrEnum):
    DRIVERS_LICENSE = "drivers_license"
    NATIONAL_ID = "national_id"
    PASSPORT = "passport"
    RESIDENCE_PERMIT = "residence_permit"

    def __str__(self) -> str:
        return str(self.value)
