from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="WalletAmountRequest")


@_attrs_define
class WalletAmountRequest:
    """Deposit and withdrawal: one wallet and an amount.

    Attributes:
        wallet_id (str):
        amount (float | int | str):
    """

    wallet_id: str
    amount: float | int | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        wallet_id = self.wallet_id

        amount: float | int | str
        amount = self.amount

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "wallet_id": wallet_id,
                "amount": amount,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        wallet_id = d.pop("wallet_id")

        def _parse_amount(data: object) -> float | int | str:
            return cast(float | int | str, data)

        amount = _parse_amount(d.pop("amount"))

        wallet_amount_request = cls(
            wallet_id=wallet_id,
            amount=amount,
        )

        wallet_amount_request.additional_properties = d
        return wallet_amount_request

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
