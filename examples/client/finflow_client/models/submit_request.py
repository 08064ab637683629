from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.submit_request_document_type import SubmitRequestDocumentType
from ..types import UNSET, Unset

T = TypeVar("T", bound="SubmitRequest")


@_attrs_define
class SubmitRequest:
    """
    Attributes:
        document_type (SubmitRequestDocumentType):
        document_url (None | str | Unset):
        document_key (None | str | Unset):
    """

    document_type: SubmitRequestDocumentType
    document_url: None | str | Unset = UNSET
    document_key: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        document_type = self.document_type.value

        document_url: None | str | Unset
        if isinstance(self.document_url, Unset):
            document_url = UNSET
        else:
            document_url = self.document_url

        document_key: None | str | Unset
        if isinstance(self.document_key, Unset):
            document_key = UNSET
        else:
            document_key = self.document_key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "document_type": document_type,
            }
        )
        if document_url is not UNSET:
            field_dict["document_url"] = document_url
        if document_key is not UNSET:
            field_dict["document_key"] = document_key

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        document_type = SubmitRequestDocumentType(d.pop("document_type"))

        def _parse_document_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        document_url = _parse_document_url(d.pop("document_url", UNSET))

        def _parse_document_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        document_key = _parse_document_key(d.pop("document_key", UNSET))

        submit_request = cls(
            document_type=document_type,
            document_url=document_url,
            document_key=document_key,
        )

        submit_request.additional_properties = d
        return submit_request

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
