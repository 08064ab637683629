from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.reviewed_submission_status import ReviewedSubmissionStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="ReviewedSubmission")


@_attrs_define
class ReviewedSubmission:
    """A submission as compliance sees it: who decided, and a short-lived link to the file.

    Attributes:
        id (str):
        user_id (str):
        document_type (str):
        document_url (None | str):
        document_key (None | str):
        status (ReviewedSubmissionStatus):
        submitted_at (datetime.datetime):
        decided_at (datetime.datetime | None):
        reason (None | str):
        decided_by (None | str):
        documents_erased_at (datetime.datetime | None | Unset):
        document_download_url (None | str | Unset):
    """

    id: str
    user_id: str
    document_type: str
    document_url: None | str
    document_key: None | str
    status: ReviewedSubmissionStatus
    submitted_at: datetime.datetime
    decided_at: datetime.datetime | None
    reason: None | str
    decided_by: None | str
    documents_erased_at: datetime.datetime | None | Unset = UNSET
    document_download_url: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        user_id = self.user_id

        document_type = self.document_type

        document_url: None | str
        document_url = self.document_url

        document_key: None | str
        document_key = self.document_key

        status = self.status.value

        submitted_at = self.submitted_at.isoformat()

        decided_at: None | str
        if isinstance(self.decided_at, datetime.datetime):
            decided_at = self.decided_at.isoformat()
        else:
            decided_at = self.decided_at

        reason: None | str
        reason = self.reason

        decided_by: None | str
        decided_by = self.decided_by

        documents_erased_at: None | str | Unset
        if isinstance(self.documents_erased_at, Unset):
            documents_erased_at = UNSET
        elif isinstance(self.documents_erased_at, datetime.datetime):
            documents_erased_at = self.documents_erased_at.isoformat()
        else:
            documents_erased_at = self.documents_erased_at

        document_download_url: None | str | Unset
        if isinstance(self.document_download_url, Unset):
            document_download_url = UNSET
        else:
            document_download_url = self.document_download_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "user_id": user_id,
                "document_type": document_type,
                "document_url": document_url,
                "document_key": document_key,
                "status": status,
                "submitted_at": submitted_at,
                "decided_at": decided_at,
                "reason": reason,
                "decided_by": decided_by,
            }
        )
        if documents_erased_at is not UNSET:
            field_dict["documents_erased_at"] = documents_erased_at
        if document_download_url is not UNSET:
            field_dict["document_download_url"] = document_download_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        user_id = d.pop("user_id")

        document_type = d.pop("document_type")

        def _parse_document_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        document_url = _parse_document_url(d.pop("document_url"))

        def _parse_document_key(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        document_key = _parse_document_key(d.pop("document_key"))

        status = ReviewedSubmissionStatus(d.pop("status"))

        submitted_at = datetime.datetime.fromisoformat(d.pop("submitted_at"))

        def _parse_decided_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                decided_at_type_0 = datetime.datetime.fromisoformat(data)

                return decided_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        decided_at = _parse_decided_at(d.pop("decided_at"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        def _parse_decided_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        decided_by = _parse_decided_by(d.pop("decided_by"))

        def _parse_documents_erased_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                documents_erased_at_type_0 = datetime.datetime.fromisoformat(data)

                return documents_erased_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        documents_erased_at = _parse_documents_erased_at(d.pop("documents_erased_at", UNSET))

        def _parse_document_download_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        document_download_url = _parse_document_download_url(d.pop("document_download_url", UNSET))

        reviewed_submission = cls(
            id=id,
            user_id=user_id,
            document_type=document_type,
            document_url=document_url,
            document_key=document_key,
            status=status,
            submitted_at=submitted_at,
            decided_at=decided_at,
            reason=reason,
            decided_by=decided_by,
            documents_erased_at=documents_erased_at,
            document_download_url=document_download_url,
        )

        reviewed_submission.additional_properties = d
        return reviewed_submission

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
