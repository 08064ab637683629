from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.alert_severity import AlertSeverity
from ..models.alert_status import AlertStatus

if TYPE_CHECKING:
    from ..models.alert_evidence import AlertEvidence


T = TypeVar("T", bound="Alert")


@_attrs_define
class Alert:
    """
    Attributes:
        id (str):
        rule (str):
        severity (AlertSeverity):
        status (AlertStatus):
        payment_id (str):
        wallet_id (str):
        user_id (None | str):
        currency (str):
        amount (str):
        reason (str):
        evidence (AlertEvidence):
        freeze (None | str):
        created_at (datetime.datetime):
        resolution (None | str):
        resolved_at (datetime.datetime | None):
        resolved_by (None | str):
    """

    id: str
    rule: str
    severity: AlertSeverity
    status: AlertStatus
    payment_id: str
    wallet_id: str
    user_id: None | str
    currency: str
    amount: str
    reason: str
    evidence: AlertEvidence
    freeze: None | str
    created_at: datetime.datetime
    resolution: None | str
    resolved_at: datetime.datetime | None
    resolved_by: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        rule = self.rule

        severity = self.severity.value

        status = self.status.value

        payment_id = self.payment_id

        wallet_id = self.wallet_id

        user_id: None | str
        user_id = self.user_id

        currency = self.currency

        amount = self.amount

        reason = self.reason

        evidence = self.evidence.to_dict()

        freeze: None | str
        freeze = self.freeze

        created_at = self.created_at.isoformat()

        resolution: None | str
        resolution = self.resolution

        resolved_at: None | str
        if isinstance(self.resolved_at, datetime.datetime):
            resolved_at = self.resolved_at.isoformat()
        else:
            resolved_at = self.resolved_at

        resolved_by: None | str
        resolved_by = self.resolved_by

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "rule": rule,
                "severity": severity,
                "status": status,
                "payment_id": payment_id,
                "wallet_id": wallet_id,
                "user_id": user_id,
                "currency": currency,
                "amount": amount,
                "reason": reason,
                "evidence": evidence,
                "freeze": freeze,
                "created_at": created_at,
                "resolution": resolution,
                "resolved_at": resolved_at,
                "resolved_by": resolved_by,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.alert_evidence import AlertEvidence  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        rule = d.pop("rule")

        severity = AlertSeverity(d.pop("severity"))

        status = AlertStatus(d.pop("status"))

        payment_id = d.pop("payment_id")

        wallet_id = d.pop("wallet_id")

        def _parse_user_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        user_id = _parse_user_id(d.pop("user_id"))

        currency = d.pop("currency")

        amount = d.pop("amount")

        reason = d.pop("reason")

        evidence = AlertEvidence.from_dict(d.pop("evidence"))

        def _parse_freeze(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        freeze = _parse_freeze(d.pop("freeze"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_resolution(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        resolution = _parse_resolution(d.pop("resolution"))

        def _parse_resolved_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                resolved_at_type_0 = datetime.datetime.fromisoformat(data)

                return resolved_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        resolved_at = _parse_resolved_at(d.pop("resolved_at"))

        def _parse_resolved_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        resolved_by = _parse_resolved_by(d.pop("resolved_by"))

        alert = cls(
            id=id,
            rule=rule,
            severity=severity,
            status=status,
            payment_id=payment_id,
            wallet_id=wallet_id,
            user_id=user_id,
            currency=currency,
            amount=amount,
            reason=reason,
            evidence=evidence,
            freeze=freeze,
            created_at=created_at,
            resolution=resolution,
            resolved_at=resolved_at,
            resolved_by=resolved_by,
        )

        alert.additional_properties = d
        return alert

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
