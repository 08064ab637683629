"""moto's server as the local AWS endpoint, in this process.

moto keeps every resource in this process's memory (its backends), not in the server: a
stop closes the port (callers get "connection refused", as from an unreachable endpoint)
and a start serves the same resources again. So `down`/`up` is an outage, not a reset.
What must outlive the process itself is saved by devserver.aws_state.
"""

from __future__ import annotations

import functools
import threading

from werkzeug.serving import BaseWSGIServer, make_server


def _moto_lookups_once() -> None:
    """Two lookups moto repeats on every call, though their answers never change in a run, done once:
    - a rule's delivery to a target goes through a JSONPath for each of the eight fields of the event
      it passes on, and moto built a new JSONPath parser (its yacc tables, ~0.7 ms) for each: with
      FinFlow's rules, most of a PutEvents. A parsed path is immutable;
    - which backend serves a request: moto listed its own package directory and stat'ed each of
      its ~250 entries, for every AWS call, holding the lock all of them take.
    What moto answers and delivers is the same."""
    import jsonpath_ng.ext
    from moto import backends

    if not hasattr(jsonpath_ng.ext.parse, "cache_info"):
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=512)(jsonpath_ng.ext.parse)
    if not hasattr(backends.list_of_moto_modules, "cache_info"):
        modules = frozenset(backends.list_of_moto_modules())
        backends.list_of_moto_modules = functools.cache(lambda: modules)


class LocalAws:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self._serving: tuple[BaseWSGIServer, threading.Thread] | None = None  # while up
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def up(self) -> bool:
        return self._serving is not None

    def start(self) -> LocalAws:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        _moto_lookups_once()
        with self._lock:
            if self._serving is None:
                app = DomainDispatcherApplication(create_backend_app)
                server = make_server(self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler)
                thread = threading.Thread(target=server.serve_forever, name="aws-endpoint", daemon=True)
                thread.start()
                self._serving = (server, thread)
        return self

    def stop(self) -> None:
        with self._lock:
            serving, self._serving = self._serving, None
            if serving is not None:
                server, thread = serving
                server.shutdown()
                server.server_close()  # the port closes: callers are refused, not left waiting
                thread.join(timeout=5)
