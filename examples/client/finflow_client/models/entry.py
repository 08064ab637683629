from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.entry_kind import EntryKind

T = TypeVar("T", bound="Entry")


@_attrs_define
class Entry:
    """
    Attributes:
        id (str):
        posting_id (str):
        kind (EntryKind):
        amount (str):
        balance_after (str):
        currency (str):
        description (None | str):
        created_at (datetime.datetime):
    """

    id: str
    posting_id: str
    kind: EntryKind
    amount: str
    balance_after: str
    currency: str
    description: None | str
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        posting_id = self.posting_id

        kind = self.kind.value

        amount = self.amount

        balance_after = self.balance_after

        currency = self.currency

        description: None | str
        description = self.description

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "posting_id": posting_id,
                "kind": kind,
                "amount": amount,
                "balance_after": balance_after,
                "currency": currency,
                "description": description,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        posting_id = d.pop("posting_id")

        kind = EntryKind(d.pop("kind"))

        amount = d.pop("amount")

        balance_after = d.pop("balance_after")

        currency = d.pop("currency")

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        entry = cls(
            id=id,
            posting_id=posting_id,
            kind=kind,
            amount=amount,
            balance_after=balance_after,
            currency=currency,
            description=description,
            created_at=created_at,
        )

        entry.additional_properties = d
        return entry

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
