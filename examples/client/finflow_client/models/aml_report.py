from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.aml_report_by_rule import AmlReportByRule
    from ..models.aml_report_by_status import AmlReportByStatus


T = TypeVar("T", bound="AmlReport")


@_attrs_define
class AmlReport:
    """
    Attributes:
        total (int):
        by_status (AmlReportByStatus):
        by_rule (AmlReportByRule):
    """

    total: int
    by_status: AmlReportByStatus
    by_rule: AmlReportByRule
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        by_status = self.by_status.to_dict()

        by_rule = self.by_rule.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "total": total,
                "by_status": by_status,
                "by_rule": by_rule,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.aml_report_by_rule import AmlReportByRule  # noqa: PLC0415
        from ..models.aml_report_by_status import AmlReportByStatus  # noqa: PLC0415

        d = dict(src_dict)
        total = d.pop("total")

        by_status = AmlReportByStatus.from_dict(d.pop("by_status"))

        by_rule = AmlReportByRule.from_dict(d.pop("by_rule"))

        aml_report = cls(
            total=total,
            by_status=by_status,
            by_rule=by_rule,
        )

        aml_report.additional_properties = d
        return aml_report

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
