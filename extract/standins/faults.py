"""Fault plans: which stand-in requests fail, and how (the kinds both services can serve, and
esearch's in-band "Search Backend failed" answers)."""
from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["ESEARCH_FAULT_KINDS", "FAULT_KINDS", "FaultPlan"]

FAULT_KINDS = ("429", "retry-after", "500", "502", "503", "truncate", "empty", "stall", "drop")
# Faults only one endpoint can serve (an answer in its own format), by kind: that endpoint.
ESEARCH_FAULT_KINDS = ("backend-error",)
_IN_BAND_ENDPOINT = dict.fromkeys(ESEARCH_FAULT_KINDS, "esearch")


class FaultPlan:
    """Which requests fail, and how.

    ``script`` maps an endpoint name to fault kinds served, in order, to the next requests to that
    endpoint; once a list is used up the endpoint behaves normally. Endpoint names:
    ``esearch``, ``efetch`` (PubMed), ``studies`` (the search), ``study`` (one study by id).

    ``rate`` faults every other request independently with that probability, the kind drawn from
    ``kinds`` with a ``random.Random(seed)`` (so a seeded run repeats exactly when the requests
    arrive in the same order); ``rate_on`` limits that to the named endpoints. Scripted faults
    come first.

    Kinds: ``429`` (the service's own rate-limit answer, no Retry-After), ``retry-after`` (429
    with ``Retry-After: 1``), ``500``/``502``/``503`` (HTML error page), ``truncate`` (200, the
    body cut to half with a matching Content-Length, so only parsing notices), ``empty`` (200,
    well-formed but without results), ``stall`` (answer normally after ``stall_seconds``),
    ``drop`` (close the connection without answering).

    ``backend-error`` (esearch only, so a rate with it needs ``rate_on=["esearch"]``): HTTP 200
    with only ``esearchresult.ERROR``, alternately the two "Search Backend failed" messages NCBI
    sends during backend incidents (transient: a client should retry).
    """

    def __init__(
        self,
        script: Mapping[str, Sequence[str]] | None = None,
        *,
        rate: float = 0.0,
        seed: int | None = None,
        kinds: Sequence[str] = FAULT_KINDS,
        stall_seconds: float = 3.0,
        rate_on: Iterable[str] | None = None,
    ) -> None:
        script = dict(script or {})
        rate_on = None if rate_on is None else frozenset(rate_on)
        known = (*FAULT_KINDS, *ESEARCH_FAULT_KINDS)
        for kind in [*kinds, *(k for queue in script.values() for k in queue)]:
            if kind not in known:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(known)}")
        for endpoint, queue in script.items():
            _check_in_band(queue, {endpoint})
        if rate:
            _check_in_band(kinds, rate_on)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {rate}")
        if rate and not kinds:
            raise ValueError("a fault rate needs at least one kind")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.stall_seconds = stall_seconds
        self.rate_on = rate_on
        self.endpoints = frozenset(script) | (rate_on or frozenset())
        self._script = {endpoint: deque(queue) for endpoint, queue in script.items()}
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def next_fault(self, endpoint: str) -> str | None:
        """The fault for the next request to ``endpoint``, or None to answer normally."""
        with self._lock:
            queue = self._script.get(endpoint)
            if queue:
                return queue.popleft()
            if self.rate and (self.rate_on is None or endpoint in self.rate_on) and self._random.random() < self.rate:
                return self._random.choice(self.kinds)
        return None


def _check_in_band(kinds: Iterable[str], endpoints: frozenset[str] | None) -> None:
    """Refuse a kind that only one endpoint can serve planned for others (None: every endpoint)."""
    for kind in kinds:
        only = _IN_BAND_ENDPOINT.get(kind)
        if only is not None and endpoints != {only}:
            raise ValueError(f"fault kind {kind!r} is served by {only} only: script it for {only!r} "
                             f"or give rate_on=[{only!r}]")
