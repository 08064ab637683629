from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.kyc_status_view_kyc_status import KycStatusViewKycStatus

if TYPE_CHECKING:
    from ..models.submission import Submission


T = TypeVar("T", bound="KycStatusView")


@_attrs_define
class KycStatusView:
    """
    Attributes:
        kyc_status (KycStatusViewKycStatus):
        submissions (list[Submission]):
    """

    kyc_status: KycStatusViewKycStatus
    submissions: list[Submission]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kyc_status = self.kyc_status.value

        submissions = []
        for submissions_item_data in self.submissions:
            submissions_item = submissions_item_data.to_dict()
            submissions.append(submissions_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kyc_status": kyc_status,
                "submissions": submissions,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.submission import Submission  # noqa: PLC0415

        d = dict(src_dict)
        kyc_status = KycStatusViewKycStatus(d.pop("kyc_status"))

        submissions = []
        _submissions = d.pop("submissions")
        for submissions_item_data in _submissions:
            submissions_item = Submission.from_dict(submissions_item_data)

            submissions.append(submissions_item)

        kyc_status_view = cls(
            kyc_status=kyc_status,
            submissions=submissions,
        )

        kyc_status_view.additional_properties = d
        return kyc_status_view

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
