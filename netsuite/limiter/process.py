"""The share within one process: a semaphore per connection, enough when no other process can send."""

from __future__ import annotations

import threading

_semaphores: dict[tuple[int, int], threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()


def process_semaphore(connection_id: int, share: int) -> threading.BoundedSemaphore:
    """Return this process's semaphore of ``share`` permits for the connection."""
    with _semaphores_lock:
        key = (connection_id, share)
        if key not in _semaphores:
            _semaphores[key] = threading.BoundedSemaphore(share)
        return _semaphores[key]


class ProcessLimiter:
    """At most ``share`` requests in flight from this process."""

    def __init__(self, *, connection_id: int, share: int) -> None:
        self._semaphore = process_semaphore(connection_id, max(1, share))

    def slot(self) -> threading.BoundedSemaphore:
        return self._semaphore
