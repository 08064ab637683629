from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FunnelUsers")


@_attrs_define
class FunnelUsers:
    """
    Attributes:
        registered (int):
        submitted (int):
        verified (int):
        rejected (int):
    """

    registered: int
    submitted: int
    verified: int
    rejected: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        registered = self.registered

        submitted = self.submitted

        verified = self.verified

        rejected = self.rejected

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "registered": registered,
                "submitted": submitted,
                "verified": verified,
                "rejected": rejected,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        registered = d.pop("registered")

        submitted = d.pop("submitted")

        verified = d.pop("verified")

        rejected = d.pop("rejected")

        funnel_users = cls(
            registered=registered,
            submitted=submitted,
            verified=verified,
            rejected=rejected,
        )

        funnel_users.additional_properties = d
        return funnel_users

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
