from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.upload_ticket_fields import UploadTicketFields


T = TypeVar("T", bound="UploadTicket")


@_attrs_define
class UploadTicket:
    """An S3 presigned POST: send `fields` plus the file (field `file`, last) to `upload_url`.

    Attributes:
        upload_url (str):
        fields (UploadTicketFields):
        document_key (str):
        expires_in (int):
        max_bytes (int):
    """

    upload_url: str
    fields: UploadTicketFields
    document_key: str
    expires_in: int
    max_bytes: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        upload_url = self.upload_url

        fields = self.fields.to_dict()

        document_key = self.document_key

        expires_in = self.expires_in

        max_bytes = self.max_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "upload_url": upload_url,
                "fields": fields,
                "document_key": document_key,
                "expires_in": expires_in,
                "max_bytes": max_bytes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.upload_ticket_fields import UploadTicketFields  # noqa: PLC0415

        d = dict(src_dict)
        upload_url = d.pop("upload_url")

        fields = UploadTicketFields.from_dict(d.pop("fields"))

        document_key = d.pop("document_key")

        expires_in = d.pop("expires_in")

        max_bytes = d.pop("max_bytes")

        upload_ticket = cls(
            upload_url=upload_url,
            fields=fields,
            document_key=document_key,
            expires_in=expires_in,
            max_bytes=max_bytes,
        )

        upload_ticket.additional_properties = d
        return upload_ticket

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
