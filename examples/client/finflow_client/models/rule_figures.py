from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.rule_figures_amounts import RuleFiguresAmounts
    from ..models.rule_figures_by_severity import RuleFiguresBySeverity
    from ..models.rule_figures_by_status import RuleFiguresByStatus


T = TypeVar("T", bound="RuleFigures")


@_attrs_define
class RuleFigures:
    """
    Attributes:
        total (int):
        by_status (RuleFiguresByStatus):
        by_severity (RuleFiguresBySeverity):
        wallet_freezes (int):
        amounts (RuleFiguresAmounts):
    """

    total: int
    by_status: RuleFiguresByStatus
    by_severity: RuleFiguresBySeverity
    wallet_freezes: int
    amounts: RuleFiguresAmounts
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        by_status = self.by_status.to_dict()

        by_severity = self.by_severity.to_dict()

        wallet_freezes = self.wallet_freezes

        amounts = self.amounts.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "total": total,
                "by_status": by_status,
                "by_severity": by_severity,
                "wallet_freezes": wallet_freezes,
                "amounts": amounts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.rule_figures_amounts import RuleFiguresAmounts  # noqa: PLC0415
        from ..models.rule_figures_by_severity import RuleFiguresBySeverity  # noqa: PLC0415
        from ..models.rule_figures_by_status import RuleFiguresByStatus  # noqa: PLC0415

        d = dict(src_dict)
        total = d.pop("total")

        by_status = RuleFiguresByStatus.from_dict(d.pop("by_status"))

        by_severity = RuleFiguresBySeverity.from_dict(d.pop("by_severity"))

        wallet_freezes = d.pop("wallet_freezes")

        amounts = RuleFiguresAmounts.from_dict(d.pop("amounts"))

        rule_figures = cls(
            total=total,
            by_status=by_status,
            by_severity=by_severity,
            wallet_freezes=wallet_freezes,
            amounts=amounts,
        )

        rule_figures.additional_properties = d
        return rule_figures

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
