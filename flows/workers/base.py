"""What every kind of page workers shares: the `PageWorkers` interface and `ordered_map`, which
keeps input order with a bounded number of chunks in flight (see the package doc)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from concurrent.futures import Future
from typing import Callable, Iterable, Iterator

from extract.pages import RawPage
from flows.prepare import PreparedPage

Submit = Callable[[list[RawPage]], "Future | object"]  # returns something with .result()


class PageWorkers(ABC):
    """Prepares pages somewhere; `map` yields them prepared, in order (see the module doc)."""

    description: str
    # Whether `map` may run in a background thread (to prepare a source's pages before its turn).
    in_background: bool = True

    @abstractmethod
    def map(self, pages: Iterable[RawPage | None]) -> Iterator[PreparedPage | None]:
        ...


def _chunks(pages: Iterable[RawPage | None], size: int) -> Iterator[list[RawPage] | None]:
    """Pages grouped `size` at a time; a None item ends the current chunk and passes through."""
    chunk: list[RawPage] = []
    for page in pages:
        if page is None:
            if chunk:
                yield chunk
                chunk = []
            yield None
            continue
        chunk.append(page)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ordered_map(submit: Submit, pages: Iterable[RawPage | None], *, chunk: int, ahead: int
                ) -> Iterator[PreparedPage | None]:
    """Submit chunks of pages up to `ahead` in flight; yield the prepared pages in input order."""
    in_flight: deque = deque()

    def drain_one() -> Iterator[PreparedPage | None]:
        future = in_flight.popleft()
        if future is None:
            yield None
        else:
            yield from future.result()

    try:
        for item in _chunks(pages, chunk):
            in_flight.append(None if item is None else submit(item))
            while len(in_flight) > ahead:
                yield from drain_one()
        while in_flight:
            yield from drain_one()
    finally:
        for future in in_flight:  # the consumer stopped early: drop work not started yet
            if isinstance(future, Future):
                future.cancel()
