"""The HTTP layer shared by both clients: one session per service, a client-side rate limiter,
timeouts, and retries with exponential backoff and jitter.

Retried: connection errors, timeouts, 429 and 5xx answers, and 200 answers whose body does not
pass the caller's `validate` check (a truncated body is as much a failure as a 503).
`Retry-After` is honoured when sent; NCBI rarely sends it, which is why the limiter paces
requests before they are made instead of relying on retries.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Iterator, Mapping

import requests


log = logging.getLogger("trialwatch.http")

USER_AGENT = "trialwatch/0.1 (clinical research monitor; python-requests)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0
SECRET_PARAMS = ("api_key",)


class ServiceUnavailable(RuntimeError):
    """The service kept failing past the retry budget, or refused the request outright."""


class InvalidBody(ValueError):
    """Raised by a `validate` callback: the body is not what a complete answer looks like."""


class RateLimiter:
    """At most `limit` requests in any `window` seconds as the service counts them, with request
    starts at least window/limit apart.

    A service counts a request when it arrives, which is somewhere between the moment we start
    it and the moment its answer is complete. So a request starts only once the request `limit`
    places before it has *finished* at least `window` seconds ago: then no window of the
    service's can hold more than `limit`, however the network or a busy process delays requests
    in between. (Spacing start times alone cannot promise that once requests overlap.)
    """

    def __init__(self, limit: int, window: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.limit, self.window = max(1, limit), window
        self.interval = window / self.limit
        self._clock, self._sleep = clock, sleep
        self._recent: deque[list[float | None]] = deque()  # [end] of the last `limit` requests; None in flight
        self._next_start = 0.0
        self._changed = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for this request's turn, then hold the slot while making it."""
        mine: list[float | None] = [None]
        while True:
            with self._changed:
                now = self._clock()
                ready_at = self._next_start
                if len(self._recent) == self.limit:
                    oldest_end = self._recent[0][0]
                    if oldest_end is None:  # still in flight: wait for it to finish
                        self._changed.wait()
                        continue
                    ready_at = max(ready_at, oldest_end + self.window)
                if now >= ready_at:
                    if len(self._recent) == self.limit:
                        self._recent.popleft()
                    self._recent.append(mine)
                    self._next_start = now + self.interval
                    break
            self._sleep(ready_at - now)
        try:
            yield
        finally:
            with self._changed:
                mine[0] = self._clock()
                self._changed.notify_all()


@dataclass
class HttpStats:
    """What the run summary reports about the conversation with one service."""

    requests: int = 0
    retries: int = 0
    retry_reasons: Counter = field(default_factory=Counter)


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds (it may be a number or an HTTP date); None if absent/unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, min((when - datetime.now(timezone.utc)).total_seconds(), MAX_RETRY_AFTER))


def redact(params: Mapping[str, object] | None) -> dict[str, object]:
    """Request parameters fit for logs and error messages (API keys hidden)."""
    return {k: ("***" if k in SECRET_PARAMS else v) for k, v in (params or {}).items()}


class HttpClient:
    """One service: a `requests.Session`, its rate limiter, its retry policy and its stats."""

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        rate_per_second: float,
        rate_window: float = 1.0,
        timeout: float = 30.0,
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 60.0,
        default_params: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.default_params = dict(default_params or {})
        self.limiter = RateLimiter(round(rate_per_second * rate_window), rate_window, sleep=sleep)
        self.stats = HttpStats()
        self._stats_lock = threading.Lock()  # a client may be shared by a few request threads
        self._sleep = sleep
        self._secrets = [str(v) for k, v in self.default_params.items() if k in SECRET_PARAMS and v]
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def get(self, path: str, params: Mapping[str, object] | None = None,
            validate: Callable[[bytes], object] | None = None) -> requests.Response:
        return self._request("GET", path, params=params, validate=validate)

    def post(self, path: str, data: Mapping[str, object],
             validate: Callable[[bytes], object] | None = None) -> requests.Response:
        return self._request("POST", path, data=data, validate=validate)

    def close(self) -> None:
        self.session.close()

    def scrub(self, text: str) -> str:
        """`text` with this client's secrets blanked (NCBI echoes the API key in its 429 body)."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with 'equal jitter': half fixed, half random."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _request(self, method: str, path: str, *, params=None, data=None, validate=None) -> requests.Response:
        url = self.base_url + path
        merged = {**self.default_params, **(params or {})} if method == "GET" else self.default_params
        body = {**self.default_params, **data} if data is not None else None
        shown = redact(merged if method == "GET" else body)
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            with self._stats_lock:
                self.stats.requests += 1
                self.stats.retries += bool(attempt)
            wait: float | None = None
            try:
                with self.limiter.slot():
                    response = self.session.request(
                        method, url, params=merged if method == "GET" else None, data=body, timeout=self.timeout
                    )
            except (requests.ConnectionError, requests.Timeout) as error:
                reason = "timeout" if isinstance(error, requests.Timeout) else "connection error"
                last_problem = f"{reason}: {type(error).__name__}"
            else:
                if response.status_code in RETRY_STATUSES:
                    reason = f"HTTP {response.status_code}"
                    last_problem = self.scrub(f"HTTP {response.status_code}: {_snippet(response.content)}")
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                elif response.status_code >= 400:
                    raise ServiceUnavailable(self.scrub(
                        f"{self.service} refused {method} {url} {shown}: HTTP {response.status_code} "
                        f"{_snippet(response.content)}"
                    ))
                else:
                    try:
                        if validate:
                            validate(response.content)
                        return response
                    except (InvalidBody, ValueError) as error:
                        reason = "invalid body"
                        last_problem = self.scrub(f"incomplete or malformed body ({error})")
            with self._stats_lock:
                self.stats.retry_reasons[reason] += 1
            if attempt == self.max_retries:
                break
            delay = wait if wait is not None else self._backoff(attempt)
            log.warning("%s: %s on %s %s; retry %d/%d in %.1fs", self.service, last_problem, method,
                        path, attempt + 1, self.max_retries, delay)
            self._sleep(delay)
        raise ServiceUnavailable(
            f"{self.service} at {self.base_url} still failing after {self.max_retries} retries "
            f"({last_problem}); check the URL and your network, or try again later"
        )


def _snippet(content: bytes, limit: int = 160) -> str:
    text = content[:limit].decode("utf-8", "replace").replace("\n", " ").strip()
    return text + ("…" if len(content) > limit else "")
