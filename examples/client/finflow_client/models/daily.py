from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.daily_totals import DailyTotals
    from ..models.day import Day


T = TypeVar("T", bound="Daily")


@_attrs_define
class Daily:
    """
    Attributes:
        from_ (datetime.date):
        to (datetime.date):
        currency (None | str):
        days (list[Day]):
        totals (DailyTotals):
    """

    from_: datetime.date
    to: datetime.date
    currency: None | str
    days: list[Day]
    totals: DailyTotals
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from_ = self.from_.isoformat()

        to = self.to.isoformat()

        currency: None | str
        currency = self.currency

        days = []
        for days_item_data in self.days:
            days_item = days_item_data.to_dict()
            days.append(days_item)

        totals = self.totals.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "from": from_,
                "to": to,
                "currency": currency,
                "days": days,
                "totals": totals,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.daily_totals import DailyTotals  # noqa: PLC0415
        from ..models.day import Day  # noqa: PLC0415

        d = dict(src_dict)
        from_ = datetime.date.fromisoformat(d.pop("from"))

        to = datetime.date.fromisoformat(d.pop("to"))

        def _parse_currency(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        currency = _parse_currency(d.pop("currency"))

        days = []
        _days = d.pop("days")
        for days_item_data in _days:
            days_item = Day.from_dict(days_item_data)

            days.append(days_item)

        totals = DailyTotals.from_dict(d.pop("totals"))

        daily = cls(
            from_=from_,
            to=to,
            currency=currency,
            days=days,
            totals=totals,
        )

        daily.additional_properties = d
        return daily

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
