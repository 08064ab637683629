from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FunnelSubmissions")


@_attrs_define
class FunnelSubmissions:
    """
    Attributes:
        submitted (int):
        verified (int):
        rejected (int):
        awaiting_decision (int):
    """

    submitted: int
    verified: int
    rejected: int
    awaiting_decision: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        submitted = self.submitted

        verified = self.verified

        rejected = self.rejected

        awaiting_decision = self.awaiting_decision

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "submitted": submitted,
                "verified": verified,
                "rejected": rejected,
                "awaiting_decision": awaiting_decision,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        submitted = d.pop("submitted")

        verified = d.pop("verified")

        rejected = d.pop("rejected")

        awaiting_decision = d.pop("awaiting_decision")

        funnel_submissions = cls(
            submitted=submitted,
            verified=verified,
            rejected=rejected,
            awaiting_decision=awaiting_decision,
        )

        funnel_submissions.additional_properties = d
        return funnel_submissions

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
