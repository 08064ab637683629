from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.wallet_figures_by_currency import WalletFiguresByCurrency


T = TypeVar("T", bound="WalletFigures")


@_attrs_define
class WalletFigures:
    """
    Attributes:
        total (int):
        by_currency (WalletFiguresByCurrency):
    """

    total: int
    by_currency: WalletFiguresByCurrency
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        by_currency = self.by_currency.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "total": total,
                "by_currency": by_currency,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.wallet_figures_by_currency import WalletFiguresByCurrency  # noqa: PLC0415

        d = dict(src_dict)
        total = d.pop("total")

        by_currency = WalletFiguresByCurrency.from_dict(d.pop("by_currency"))

        wallet_figures = cls(
            total=total,
            by_currency=by_currency,
        )

        wallet_figures.additional_properties = d
        return wallet_figures

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
