from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ReportingPayment")


@_attrs_define
class ReportingPayment:
    """
    Attributes:
        id (str):
        status (str):
        kind (str):
        amount (str):
        currency (str):
        from_wallet_id (None | str):
        to_wallet_id (None | str):
        from_user_id (None | str):
        to_user_id (None | str):
        description (None | str):
        failure_reason (None | str):
        at (datetime.datetime):
    """

    id: str
    status: str
    kind: str
    amount: str
    currency: str
    from_wallet_id: None | str
    to_wallet_id: None | str
    from_user_id: None | str
    to_user_id: None | str
    description: None | str
    failure_reason: None | str
    at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status

        kind = self.kind

        amount = self.amount

        currency = self.currency

        from_wallet_id: None | str
        from_wallet_id = self.from_wallet_id

        to_wallet_id: None | str
        to_wallet_id = self.to_wallet_id

        from_user_id: None | str
        from_user_id = self.from_user_id

        to_user_id: None | str
        to_user_id = self.to_user_id

        description: None | str
        description = self.description

        failure_reason: None | str
        failure_reason = self.failure_reason

        at = self.at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status": status,
                "kind": kind,
                "amount": amount,
                "currency": currency,
                "from_wallet_id": from_wallet_id,
                "to_wallet_id": to_wallet_id,
                "from_user_id": from_user_id,
                "to_user_id": to_user_id,
                "description": description,
                "failure_reason": failure_reason,
                "at": at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        status = d.pop("status")

        kind = d.pop("kind")

        amount = d.pop("amount")

        currency = d.pop("currency")

        def _parse_from_wallet_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        from_wallet_id = _parse_from_wallet_id(d.pop("from_wallet_id"))

        def _parse_to_wallet_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        to_wallet_id = _parse_to_wallet_id(d.pop("to_wallet_id"))

        def _parse_from_user_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        from_user_id = _parse_from_user_id(d.pop("from_user_id"))

        def _parse_to_user_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        to_user_id = _parse_to_user_id(d.pop("to_user_id"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        def _parse_failure_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        failure_reason = _parse_failure_reason(d.pop("failure_reason"))

        at = datetime.datetime.fromisoformat(d.pop("at"))

        reporting_payment = cls(
            id=id,
            status=status,
            kind=kind,
            amount=amount,
            currency=currency,
            from_wallet_id=from_wallet_id,
            to_wallet_id=to_wallet_id,
            from_user_id=from_user_id,
            to_user_id=to_user_id,
            description=description,
            failure_reason=failure_reason,
            at=at,
        )

        reporting_payment.additional_properties = d
        return reporting_payment

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
