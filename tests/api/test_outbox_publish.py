"""Publishing the outbox: an entry EventBridge refuses stays unpublished, its attempt counted,
and the next publish sends it; what was accepted is never sent again."""

from __future__ import annotations

import uuid

from sqlalchemy import select


class PartlyRefusingBus:
    """An events client that refuses every entry whose data names `refuse` (EventBridge answers
    such an entry with an ErrorCode instead of an EventId) and accepts the others."""

    def __init__(self, refuse: str):
        self.refuse, self.sent = refuse, []

    def __call__(self, service: str):
        assert service == "events"
        return self

    def put_events(self, Entries):
        answers = []
        for entry in Entries:
            if self.refuse in entry["Detail"]:
                answers.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                self.sent.append(entry["Detail"])
                answers.append({"EventId": str(uuid.uuid4())})
        return {"FailedEntryCount": sum("ErrorCode" in a for a in answers), "Entries": answers}


def test_a_refused_entry_stays_unpublished_and_goes_out_with_the_next_publish(api_env, monkeypatch):
    from finflow import events
    from finflow.db import engine
    from functions.payment.tables import outbox

    marker = uuid.uuid4().hex
    with engine("payment").begin() as conn:
        kept = events.record(conn, outbox, "OutboxProbe", {"probe": "kept"})
        refused = events.record(conn, outbox, "OutboxProbe", {"probe": marker})
    bus = PartlyRefusingBus(marker)
    monkeypatch.setattr(events, "client", bus)
    events.publish_pending(engine("payment"), outbox, "payment")

    def row(event_id: str):
        with engine("payment").connect() as conn:
            return conn.execute(
                select(outbox.c.published_at, outbox.c.attempts).where(outbox.c.event_id == event_id)
            ).one()

    assert row(kept["event_id"]).published_at is not None
    assert (row(refused["event_id"]).published_at, row(refused["event_id"]).attempts) == (None, 1)
    assert [marker in d for d in bus.sent if kept["event_id"] in d or refused["event_id"] in d] == [False]

    bus.refuse = "nothing refuses this"  # EventBridge takes it now
    events.publish_pending(engine("payment"), outbox, "payment")
    assert row(refused["event_id"]).published_at is not None
    sent = [d for d in bus.sent if kept["event_id"] in d or refused["event_id"] in d]
    assert len(sent) == 2 and refused["event_id"] in sent[1]  # each sent once
