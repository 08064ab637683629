from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.summary_currencies import SummaryCurrencies
    from ..models.user_figures import UserFigures
    from ..models.wallet_figures import WalletFigures


T = TypeVar("T", bound="Summary")


@_attrs_define
class Summary:
    """
    Attributes:
        users (UserFigures):
        wallets (WalletFigures):
        currencies (SummaryCurrencies):
    """

    users: UserFigures
    wallets: WalletFigures
    currencies: SummaryCurrencies
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        users = self.users.to_dict()

        wallets = self.wallets.to_dict()

        currencies = self.currencies.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "users": users,
                "wallets": wallets,
                "currencies": currencies,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.summary_currencies import SummaryCurrencies  # noqa: PLC0415
        from ..models.user_figures import UserFigures  # noqa: PLC0415
        from ..models.wallet_figures import WalletFigures  # noqa: PLC0415

        d = dict(src_dict)
        users = UserFigures.from_dict(d.pop("users"))

        wallets = WalletFigures.from_dict(d.pop("wallets"))

        currencies = SummaryCurrencies.from_dict(d.pop("currencies"))

        summary = cls(
            users=users,
            wallets=wallets,
            currencies=currencies,
        )

        summary.additional_properties = d
        return summary

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
