from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.user_figures_by_kyc_status import UserFiguresByKycStatus


T = TypeVar("T", bound="UserFigures")


@_attrs_define
class UserFigures:
    """
    Attributes:
        total (int):
        by_kyc_status (UserFiguresByKycStatus):
    """

    total: int
    by_kyc_status: UserFiguresByKycStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        by_kyc_status = self.by_kyc_status.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "total": total,
                "by_kyc_status": by_kyc_status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.user_figures_by_kyc_status import UserFiguresByKycStatus  # noqa: PLC0415

        d = dict(src_dict)
        total = d.pop("total")

        by_kyc_status = UserFiguresByKycStatus.from_dict(d.pop("by_kyc_status"))

        user_figures = cls(
            total=total,
            by_kyc_status=by_kyc_status,
        )

        user_figures.additional_properties = d
        return user_figures

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
