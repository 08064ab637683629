from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Erasure")


@_attrs_define
class Erasure:
    """An erasure done in Auth; the other modules follow through the UserErased event.

    Attributes:
        user_id (str):
        erased_at (datetime.datetime):
        status (Literal['erased'] | Unset):  Default: 'erased'.
    """

    user_id: str
    erased_at: datetime.datetime
    status: Literal["erased"] | Unset = "erased"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        user_id = self.user_id

        erased_at = self.erased_at.isoformat()

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "user_id": user_id,
                "erased_at": erased_at,
            }
        )
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = d.pop("user_id")

        erased_at = datetime.datetime.fromisoformat(d.pop("erased_at"))

        status = cast(Literal["erased"] | Unset, d.pop("status", UNSET))
        if status != "erased" and not isinstance(status, Unset):
            raise ValueError(f"status must match const 'erased', got '{status}'")

        erasure = cls(
            user_id=user_id,
            erased_at=erased_at,
            status=status,
        )

        erasure.additional_properties = d
        return erasure

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
