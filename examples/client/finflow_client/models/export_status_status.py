from enum import StrEnum


class ExportStatusStatus(StrEnum):
    COMPLETE = "complete"
    PENDING = "pending"

    def __str__(self) -> str:
        return str(self.value)
