"""Overlap waiting on the network with parsing and loading: a bounded background reader."""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_DONE = object()


class Prefetch(Iterator[T]):
    """Yield `items` in order while a background thread produces up to `depth` ahead.

    The thread starts at once, not at the first `next()`: a source whose turn to be stored
    comes later is already being fetched meanwhile. The producer's exception is re-raised in
    the consumer at the point it happened. If the consumer stops early (an error while loading,
    `close()`, or dropping the iterator), the producer stops at its next item instead of
    fetching the rest.
    """

    def __init__(self, items: Iterable[T], depth: int = 4):
        self._buffer: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        # The thread gets the queue and the event, not `self`, so dropping the iterator frees it.
        self._worker = threading.Thread(target=_produce, args=(items, self._buffer, self._stop),
                                        name="trialwatch-prefetch", daemon=True)
        self._worker.start()

    def __next__(self) -> T:
        while True:  # polls, so that `close()` from another thread ends a wait here too
            if self._finished:
                raise StopIteration
            try:
                item, error = self._buffer.get(timeout=0.1)
                break
            except queue.Empty:
                continue
        if item is _DONE:
            self._finished = True
            if error is not None:
                raise error
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop the producer and wait (briefly) for it: it may be in the middle of a request."""
        self._finished = True
        self._stop.set()
        self._worker.join(timeout=5)

    def __del__(self) -> None:
        self._stop.set()


def _produce(items: Iterable[T], buffer: queue.Queue, stop: threading.Event) -> None:
    try:
        for item in items:
            if not _offer(buffer, stop, (item, None)):
                return
        _offer(buffer, stop, (_DONE, None))
    except BaseException as error:  # noqa: BLE001 — handed to the consumer
        _offer(buffer, stop, (_DONE, error))


def _offer(buffer: queue.Queue, stop: threading.Event, entry: tuple) -> bool:
    """Put `entry` once there is room; False if the consumer stopped meanwhile."""
    while not stop.is_set():
        try:
            buffer.put(entry, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
