"""The background page reader: order, errors, early stop."""
from __future__ import annotations

import threading
import time

import pytest

from extract.prefetch import Prefetch


def test_items_arrive_in_order_while_the_producer_runs_ahead():
    produced: list[int] = []

    def slow_source():
        for n in range(6):
            produced.append(n)
            yield n

    consumed = []
    for item in Prefetch(slow_source(), depth=2):
        time.sleep(0.02)
        consumed.append((item, len(produced)))
    assert [item for item, _ in consumed] == list(range(6))
    assert consumed[0][1] >= 2  # by the time the first item was used, more had been fetched


def test_a_producer_error_surfaces_after_the_items_before_it():
    def failing():
        yield 1
        yield 2
        raise ConnectionError("service down")

    seen = []
    with pytest.raises(ConnectionError, match="service down"):
        for item in Prefetch(failing()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_stops_the_producer():
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    for item in Prefetch(endless(), depth=2):
        if item == 3:
            break
    time.sleep(0.3)
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 8
    assert not any(t.name == "trialwatch-prefetch" for t in threading.enumerate())


def test_the_producer_starts_before_the_first_item_is_asked_for():
    started = threading.Event()

    def source():
        started.set()
        yield "page 1"

    pages = Prefetch(source())
    assert started.wait(timeout=5)  # a later source is fetched while an earlier one is stored
    assert list(pages) == ["page 1"]


def test_close_before_consuming_stops_the_producer():
    produced = []

    def endless():
        while True:
            produced.append(len(produced))
            yield produced[-1]

    pages = Prefetch(endless(), depth=2)
    time.sleep(0.2)
    pages.close()
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 4
    assert list(pages) == []
