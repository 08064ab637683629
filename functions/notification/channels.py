"""The outbound channels: email through SES, SMS through SNS (in-app is a stored record,
see store.py). Each send either returns the provider's message id or raises SendError
saying whether the message certainly did not go out (and whether trying again can help).

The clients make exactly one attempt per send (no botocore retries): a retry of a request
whose answer was lost could send the message twice, and the decision to try again is
taken a level up, where the delivery record knows what happened before.
"""

from __future__ import annotations

from functools import cache

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from finflow.config import settings

# Errors that will not go away by sending the same message again.
_PERMANENT = frozenset(
    {
        "MessageRejected",
        "InvalidParameterValue",
        "InvalidParameter",
        "MailFromDomainNotVerifiedException",
        "ConfigurationSetDoesNotExistException",
        "InvalidPhoneNumber",
        "OptedOut",
        "AuthorizationError",
    }
)


class SendError(Exception):
    """status: `failed` (not sent, worth retrying), `rejected` (not sent, retrying will not
    help) or `unknown` (the request may have been accepted: never retried, at most once)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@cache
def _client(service: str):
    # deferred to the first send (~80 ms of a cold start); botocore.exceptions above is light
    import boto3
    from botocore.config import Config

    # boto3 reads AWS_ENDPOINT_URL itself: moto or LocalStack need no change here.
    return boto3.client(
        service,
        region_name=settings().aws_region,
        config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 1}),
    )


def reset_clients() -> None:
    _client.cache_clear()


def _send(call) -> str:
    try:
        return call()["MessageId"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        reason = f"{code}: {exc.response.get('Error', {}).get('Message', '')}".strip()
        raise SendError("rejected" if code in _PERMANENT else "failed", reason) from None
    except (EndpointConnectionError, ConnectTimeoutError) as exc:  # nothing reached the provider
        raise SendError("failed", f"{type(exc).__name__}: {exc}") from None
    except ReadTimeoutError as exc:  # the request went out; whether it was accepted is unknown
        raise SendError("unknown", f"{type(exc).__name__}: {exc}") from None
    except BotoCoreError as exc:
        raise SendError("unknown", f"{type(exc).__name__}: {exc}") from None


def send_email(to: str, subject: str, text: str) -> str:
    return _send(
        lambda: _client("ses").send_email(
            Source=settings().notification_sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
    )


def send_sms(phone: str, text: str) -> str:
    return _send(
        lambda: _client("sns").publish(
            PhoneNumber=phone,
            Message=text,
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )
    )
