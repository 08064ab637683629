from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.funnel_submissions import FunnelSubmissions
    from ..models.funnel_users import FunnelUsers


T = TypeVar("T", bound="KycFunnel")


@_attrs_define
class KycFunnel:
    """
    Attributes:
        users (FunnelUsers):
        submissions (FunnelSubmissions):
    """

    users: FunnelUsers
    submissions: FunnelSubmissions
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        users = self.users.to_dict()

        submissions = self.submissions.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "users": users,
                "submissions": submissions,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.funnel_submissions import FunnelSubmissions  # noqa: PLC0415
        from ..models.funnel_users import FunnelUsers  # noqa: PLC0415

        d = dict(src_dict)
        users = FunnelUsers.from_dict(d.pop("users"))

        submissions = FunnelSubmissions.from_dict(d.pop("submissions"))

        kyc_funnel = cls(
            users=users,
            submissions=submissions,
        )

        kyc_funnel.additional_properties = d
        return kyc_funnel

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
