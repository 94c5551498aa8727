"""Overlap waiting on the network with parsing and loading: a bounded background reader."""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """Yield `items` in order while a background thread produces up to `depth` ahead.

    The producer's exception is re-raised in the consumer at the point it happened; if the
    consumer stops early (an error while loading, or `close()`), the producer stops at its next
    item instead of fetching the rest.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((_DONE, None))
        except BaseException as error:  # noqa: BLE001 — handed to the consumer
            buffer.put((_DONE, error))

    worker = threading.Thread(target=produce, name="trialwatch-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = buffer.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
