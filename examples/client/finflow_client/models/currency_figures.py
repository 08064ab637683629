from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.currency_figures_by_kind import CurrencyFiguresByKind
    from ..models.figure import Figure


T = TypeVar("T", bound="CurrencyFigures")


@_attrs_define
class CurrencyFigures:
    """
    Attributes:
        balance (str):
        wallets (int):
        payments (Figure):
        by_kind (CurrencyFiguresByKind):
        failed (Figure):
    """

    balance: str
    wallets: int
    payments: Figure
    by_kind: CurrencyFiguresByKind
    failed: Figure
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        balance = self.balance

        wallets = self.wallets

        payments = self.payments.to_dict()

        by_kind = self.by_kind.to_dict()

        failed = self.failed.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "balance": balance,
                "wallets": wallets,
                "payments": payments,
                "by_kind": by_kind,
                "failed": failed,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.currency_figures_by_kind import CurrencyFiguresByKind  # noqa: PLC0415
        from ..models.figure import Figure  # noqa: PLC0415

        d = dict(src_dict)
        balance = d.pop("balance")

        wallets = d.pop("wallets")

        payments = Figure.from_dict(d.pop("payments"))

        by_kind = CurrencyFiguresByKind.from_dict(d.pop("by_kind"))

        failed = Figure.from_dict(d.pop("failed"))

        currency_figures = cls(
            balance=balance,
            wallets=wallets,
            payments=payments,
            by_kind=by_kind,
            failed=failed,
        )

        currency_figures.additional_properties = d
        return currency_figures

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
