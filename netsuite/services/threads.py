"""Running NetSuite requests in worker threads while the calling thread does the database work."""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import connections

_STOP = object()


def run_in_threads(
    items: Iterator[Any],
    work: Callable[[Any], Any],
    *,
    workers: int,
    backlog: int,
    max_batch: int = 1,
    linger: float = 0.0,
) -> Iterator[list[tuple[Any, Any, BaseException | None]]]:
    """Run ``work(item)`` in ``workers`` threads; yield lists of (item, result, error) in the caller's thread.

    Items are drawn lazily, keeping at most ``backlog`` handed out, so the caller can prepare the next
    ones (database reads) and record finished ones (database writes) while requests are in flight. Each
    list holds the results finished within ``linger`` seconds of its first (at most ``max_batch``), so the
    caller can write them together; with a backlog larger than the workers finish meanwhile they never idle.
    ``items`` is drawn from again after every list the caller has handled, so a ``Feed`` the caller adds to while
    it handles results (work that follows from them) is sent by the same threads, even after it ran dry once.
    """
    todo: queue.Queue = queue.Queue()
    done: queue.Queue = queue.Queue()

    def worker() -> None:
        try:
            while (item := todo.get()) is not _STOP:
                try:
                    done.put((item, work(item), None))
                except BaseException as exc:
                    done.put((item, None, exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, name=f"netsuite-{n}", daemon=True) for n in range(max(1, workers))]
    for thread in threads:
        thread.start()
    outstanding = 0
    try:
        while True:
            while outstanding < backlog:
                try:
                    item = next(items)
                except StopIteration:
                    break
                todo.put(item)
                outstanding += 1
            if not outstanding:
                return
            batch = [done.get()]
            until = time.monotonic() + linger
            while len(batch) < min(max_batch, outstanding):
                try:
                    batch.append(done.get(timeout=max(0.0, until - time.monotonic())))
                except queue.Empty:
                    break
            outstanding -= len(batch)
            yield batch
    finally:
        # Drop what was not started yet (the caller stopped early), then let the workers finish.
        while True:
            try:
                todo.get_nowait()
            except queue.Empty:
                break
        for _ in threads:
            todo.put(_STOP)
        for thread in threads:
            thread.join()


class Feed:
    """Work for ``run_in_threads``: what the caller adds (first, in order), then the items of ``source``."""

    def __init__(self, source: Iterable[Any] = (), *, added: deque | None = None) -> None:
        self.source = iter(source)
        self.added: deque = added if added is not None else deque()

    def add(self, item: Any) -> None:
        self.added.append(item)

    def __iter__(self) -> Feed:
        return self

    def __next__(self) -> Any:
        if self.added:
            return self.added.popleft()
        return next(self.source)


def prefetch_pages(pages: Iterator, depth: int = 2) -> Iterator:
    """Fetch the next pages in a thread while the caller writes the current one."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        buffer.put(("page", page), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(("end", None))
        except BaseException as exc:
            buffer.put(("error", exc))

    thread = threading.Thread(target=produce, name="netsuite-pull", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = buffer.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join(timeout=60)
