from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ClientCredentials")


@_attrs_define
class ClientCredentials:
    """
    Attributes:
        client_id (str):
        client_secret (str):
        grant_type (Literal['client_credentials'] | Unset):  Default: 'client_credentials'.
    """

    client_id: str
    client_secret: str
    grant_type: Literal["client_credentials"] | Unset = "client_credentials"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        client_secret = self.client_secret

        grant_type = self.grant_type

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "client_id": client_id,
                "client_secret": client_secret,
            }
        )
        if grant_type is not UNSET:
            field_dict["grant_type"] = grant_type

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = d.pop("client_id")

        client_secret = d.pop("client_secret")

        grant_type = cast(Literal["client_credentials"] | Unset, d.pop("grant_type", UNSET))
        if grant_type != "client_credentials" and not isinstance(grant_type, Unset):
            raise ValueError(f"grant_type must match const 'client_credentials', got '{grant_type}'")

        client_credentials = cls(
            client_id=client_id,
            client_secret=client_secret,
            grant_type=grant_type,
        )

        client_credentials.additional_properties = d
        return client_credentials

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
