from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.export_status_status import ExportStatusStatus

if TYPE_CHECKING:
    from ..models.export_status_parts import ExportStatusParts


T = TypeVar("T", bound="ExportStatus")


@_attrs_define
class ExportStatus:
    """A data export: complete once every module holding data about the user wrote its part.
    `parts` maps each module to a 5-minute download link, or null while it is not written yet.

        Attributes:
            export_id (str):
            status (ExportStatusStatus):
            requested_at (datetime.datetime):
            parts (ExportStatusParts):
    """

    export_id: str
    status: ExportStatusStatus
    requested_at: datetime.datetime
    parts: ExportStatusParts
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        export_id = self.export_id

        status = self.status.value

        requested_at = self.requested_at.isoformat()

        parts = self.parts.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "export_id": export_id,
                "status": status,
                "requested_at": requested_at,
                "parts": parts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.export_status_parts import ExportStatusParts  # noqa: PLC0415

        d = dict(src_dict)
        export_id = d.pop("export_id")

        status = ExportStatusStatus(d.pop("status"))

        requested_at = datetime.datetime.fromisoformat(d.pop("requested_at"))

        parts = ExportStatusParts.from_dict(d.pop("parts"))

        export_status = cls(
            export_id=export_id,
            status=status,
            requested_at=requested_at,
            parts=parts,
        )

        export_status.additional_properties = d
        return export_status

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
