from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.payment_kind import PaymentKind
from ..models.payment_status import PaymentStatus

T = TypeVar("T", bound="Payment")


@_attrs_define
class Payment:
    """
    Attributes:
        id (str):
        kind (PaymentKind):
        status (PaymentStatus):
        amount (str):
        currency (None | str):
        from_wallet_id (None | str):
        to_wallet_id (None | str):
        description (None | str):
        failure_reason (None | str):
        created_at (datetime.datetime):
        completed_at (datetime.datetime | None):
    """

    id: str
    kind: PaymentKind
    status: PaymentStatus
    amount: str
    currency: None | str
    from_wallet_id: None | str
    to_wallet_id: None | str
    description: None | str
    failure_reason: None | str
    created_at: datetime.datetime
    completed_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        kind = self.kind.value

        status = self.status.value

        amount = self.amount

        currency: None | str
        currency = self.currency

        from_wallet_id: None | str
        from_wallet_id = self.from_wallet_id

        to_wallet_id: None | str
        to_wallet_id = self.to_wallet_id

        description: None | str
        description = self.description

        failure_reason: None | str
        failure_reason = self.failure_reason

        created_at = self.created_at.isoformat()

        completed_at: None | str
        if isinstance(self.completed_at, datetime.datetime):
            completed_at = self.completed_at.isoformat()
        else:
            completed_at = self.completed_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "status": status,
                "amount": amount,
                "currency": currency,
                "from_wallet_id": from_wallet_id,
                "to_wallet_id": to_wallet_id,
                "description": description,
                "failure_reason": failure_reason,
                "created_at": created_at,
                "completed_at": completed_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        kind = PaymentKind(d.pop("kind"))

        status = PaymentStatus(d.pop("status"))

        amount = d.pop("amount")

        def _parse_currency(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        currency = _parse_currency(d.pop("currency"))

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

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_completed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                completed_at_type_0 = datetime.datetime.fromisoformat(data)

                return completed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        completed_at = _parse_completed_at(d.pop("completed_at"))

        payment = cls(
            id=id,
            kind=kind,
            status=status,
            amount=amount,
            currency=currency,
            from_wallet_id=from_wallet_id,
            to_wallet_id=to_wallet_id,
            description=description,
            failure_reason=failure_reason,
            created_at=created_at,
            completed_at=completed_at,
        )

        payment.additional_properties = d
        return payment

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
