"""What the viewers need of the devserver's trace exports: Perfetto / chrome://tracing (Trace Event
Format) and Jaeger UI (OTLP JSON). Structure checks, shared by the unit and e2e tests."""

from __future__ import annotations


def check_chrome(doc: dict) -> tuple[dict[str, int], int]:
    """Asserts `doc` is Trace Event Format a viewer draws whole; returns its processes by name and
    how many flow arrows it has."""
    events = doc["traceEvents"]
    assert {e["ph"] for e in events} <= {"M", "X", "s", "f"}, {e["ph"] for e in events}
    threads = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    processes = {e["args"]["name"]: e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    slices = [e for e in events if e["ph"] == "X"]
    assert slices, "no span in the export"
    for e in slices:
        assert isinstance(e["name"], str) and e["ts"] >= 0 and e["dur"] >= 0, e
        assert e["pid"] in processes.values() and (e["pid"], e["tid"]) in threads, e
    # complete events on one thread must nest: a viewer drops or misdraws overlapping ones
    for track in threads:
        open_ends: list[float] = []
        for e in sorted((e for e in slices if (e["pid"], e["tid"]) == track), key=lambda e: (e["ts"], -e["dur"])):
            while open_ends and open_ends[-1] <= e["ts"]:
                open_ends.pop()
            assert not open_ends or e["ts"] + e["dur"] <= open_ends[-1], (track, e)
            open_ends.append(e["ts"] + e["dur"])
    # every flow starts inside a slice of its thread, and ends
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    assert starts.keys() == {e["id"] for e in events if e["ph"] == "f"}
    for flow in starts.values():
        assert any(
            (s["pid"], s["tid"]) == (flow["pid"], flow["tid"]) and s["ts"] <= flow["ts"] <= s["ts"] + s["dur"]
            for s in slices
        ), flow
    return processes, len(starts)


def check_otlp(doc: dict) -> dict[str, list[dict]]:
    """Asserts `doc` is OTLP JSON (ExportTraceServiceRequest) with whole traces; returns the spans by
    service.name."""
    services: dict[str, list[dict]] = {}
    for resource in doc["resourceSpans"]:
        (name,) = [a["value"]["stringValue"] for a in resource["resource"]["attributes"] if a["key"] == "service.name"]
        services.setdefault(name, []).extend(s for scope in resource["scopeSpans"] for s in scope["spans"])
    spans = [s for group in services.values() for s in group]
    ids = {s["spanId"] for s in spans}
    for s in spans:
        assert len(s["traceId"]) == 32 and int(s["traceId"], 16), s
        assert len(s["spanId"]) == 16 and int(s["spanId"], 16), s
        assert s["parentSpanId"] == "" or s["parentSpanId"] in ids, s  # no orphan
        assert int(s["startTimeUnixNano"]) <= int(s["endTimeUnixNano"]) and s["kind"] in range(6), s
        assert s["status"]["code"] in (0, 1, 2), s
        for a in s["attributes"]:
            assert set(a) == {"key", "value"} and len(a["value"]) == 1, a
    assert [s["parentSpanId"] for s in spans].count("") == len({s["traceId"] for s in spans}), "one root per trace"
    return services
