"""The machinery both stand-ins share: the threaded HTTP server on 127.0.0.1, the request log, and
serving an answer or the fault a `FaultPlan` picks for it (`_StandIn`; each service subclasses it)."""
from __future__ import annotations

import json
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qsl, urlsplit

from extract.standins.faults import ESEARCH_FAULT_KINDS, FaultPlan

__all__ = ["LoggedRequest", "RequestLog"]



@dataclass
class LoggedRequest:
    """One request as the stand-in saw it. ``params`` merges the query string and a form body
    (the last value wins for a repeated name), ``form`` is the form body alone; ``status`` is
    None for a dropped connection."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    endpoint: str | None = None
    status: int | None = None
    form: dict[str, str] = field(default_factory=dict)


class RequestLog:
    """Thread-safe, append-only list of `LoggedRequest` (iterate, index, ``len``, ``clear``)."""

    def __init__(self) -> None:
        self._items: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def append(self, item: LoggedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._items)

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __getitem__(self, index: int) -> LoggedRequest:
        with self._lock:
            return self._items[index]


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def _json_response(status: int, payload: object) -> _Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return _Response(status, body, "application/json")


def _html_error(status: int) -> _Response:
    """The kind of HTML page a load balancer or web server returns instead of the API's body."""
    title = f"{status} {HTTPStatus(status).phrase}"
    body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>\n"
    return _Response(status, body.encode(), "text/html")


Answer = Callable[[dict[str, str], bool], _Response]  # (params, empty) -> response


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real services
    server: _Server

    def do_GET(self) -> None:
        self.server.standin._serve(self)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the stand-in's `RequestLog` is the record of what arrived."""


class _Server(ThreadingHTTPServer):
    """Threaded server that tracks its open connections so that stopping closes them too
    (keep-alive connections and stalled answers would otherwise outlive the stand-in)."""

    daemon_threads = True

    def __init__(self, standin: _StandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away (or we closed the connection while stopping)
        super().handle_error(request, client_address)


class _StandIn:
    """Server thread lifecycle, request log and fault handling shared by both services.

    Subclasses set ``ENDPOINTS`` and ``BASE_PATH`` and implement `_route` (and optionally
    `_admit` for a rate limiter and `_too_many_requests` for the service's 429 body).
    """

    ENDPOINTS: frozenset[str] = frozenset()
    BASE_PATH = ""

    def __init__(self, *, faults: FaultPlan | None, latency: float) -> None:
        if faults is not None and not faults.endpoints <= self.ENDPOINTS:
            unknown = ", ".join(sorted(faults.endpoints - self.ENDPOINTS))
            raise ValueError(f"{type(self).__name__} has no endpoint(s) {unknown}")
        self.faults = faults
        self.latency = latency
        self.requests = RequestLog()
        self.faults_served: Counter[str] = Counter()
        self._store_lock = threading.RLock()  # add() holds it across read-modify-write
        self._counter_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (stalled answers are abandoned)."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("stand-in not started; use it as a context manager or call start()")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.BASE_PATH}"

    # request handling ------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        form: dict[str, str] = {}
        if handler.command == "POST":
            body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            params.update(form)
        entry = LoggedRequest(handler.command, split.path, params, dict(handler.headers.items()), form=form)
        self.requests.append(entry)

        route = self._route(handler.command, split.path)
        if route is None:
            response = _json_response(404, {"message": f"no such resource: {split.path}"})
        else:
            entry.endpoint, answer = route
            response = self._admit(params)
            if response is None:
                self._pause(self.latency)
                response = self._answer(entry.endpoint, answer, params)
        if response is None:  # "drop": close the socket without a word
            handler.close_connection = True
            return
        entry.status = response.status
        handler.send_response(response.status)
        handler.send_header("Content-Type", response.content_type)
        handler.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(response.body)

    def _answer(self, endpoint: str, answer: Answer, params: dict[str, str]) -> _Response | None:
        """The normal answer, or the fault the plan picks for this request."""
        kind = self.faults.next_fault(endpoint) if self.faults else None
        if kind is None:
            return answer(params, False)
        with self._counter_lock:
            self.faults_served[kind] += 1
        if kind == "drop":
            return None
        if kind == "stall":
            self._pause(self.faults.stall_seconds)
            return answer(params, False)
        if kind == "empty":
            return answer(params, True)
        if kind == "truncate":
            normal = answer(params, False)
            return replace(normal, body=normal.body[: len(normal.body) // 2])
        if kind == "429":
            return self._too_many_requests(params)
        if kind == "retry-after":
            refused = self._too_many_requests(params)
            return replace(refused, headers={**refused.headers, "Retry-After": "1"})
        if kind in ESEARCH_FAULT_KINDS:
            return self._in_band_error(kind, params)
        return _html_error(int(kind))

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    # service-specific hooks ------------------------------------------------------------------

    def _route(self, method: str, path: str) -> tuple[str, Answer] | None:
        raise NotImplementedError

    def _admit(self, params: dict[str, str]) -> _Response | None:
        """A refusal before any work is done (rate limiting), or None to proceed."""
        return None

    def _too_many_requests(self, params: dict[str, str]) -> _Response:
        raise NotImplementedError

    def _in_band_error(self, kind: str, params: dict[str, str]) -> _Response:
        """A failure the service reports inside a normal answer (see ``ESEARCH_FAULT_KINDS``)."""
        raise NotImplementedError
