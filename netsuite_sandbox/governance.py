"""Faults and governance switchable per run, and the request statistics a benchmark reads."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, fields
from typing import Any

MALFORMED_MODES = ("json", "html", "no_location", "unknown_error", "empty")


@dataclass
class Faults:
    """What the sandbox does wrong on purpose; every field is a key of `POST /_sandbox/config`.

    - concurrency_limit: requests in flight above this many answer 429 (None: no limit).
    - retry_after: seconds sent in a Retry-After header with each 429 (None: no header).
    - latency_ms: time every REST request takes before it is handled.
    - error_rate: share (0..1) of REST requests answered with error_status instead of being handled,
      drawn from a random generator seeded with `seed`, so a run repeats.
    - fail_next / throttle_next: the next N REST requests answer error_status / 429, then all is well.
    - timeout_after_commit: the next N writes (POST, PUT, PATCH, DELETE) are committed, then the answer never
      arrives: with timeout_mode "drop" the connection is closed at once; with "hold" it is held
      hold_seconds (set it above the client's timeout) and then closed.
    - malformed: "json" (a truncated JSON body, status malformed_status or 200), "html" (an HTML error page,
      status malformed_status or 502), "unknown_error" (NetSuite's error format with an error code no client
      knows, status malformed_status or 400), "empty" (an empty body, status malformed_status or 200) all answer
      instead of handling the request, so nothing is written; "no_location" handles the request and leaves the
      Location header off its 204. It applies to the next malformed_count REST requests (None: all).
    - async_processors: asynchronous jobs run at once (NetSuite's REST async processors; see asyncjobs.py).
    - async_record_ms: time each task of an asynchronous job takes besides its write.
    - async_hold: jobs wait in the queue until this is switched off again (to stop a client mid-batch).
    """

    concurrency_limit: int | None = None
    retry_after: int | None = None
    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 500
    seed: int = 0
    fail_next: int = 0
    throttle_next: int = 0
    timeout_after_commit: int = 0
    timeout_mode: str = "drop"
    hold_seconds: float = 30.0
    malformed: str | None = None
    malformed_status: int | None = None
    malformed_count: int | None = None
    async_processors: int = 2
    async_record_ms: int = 0
    async_hold: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-ready data."""
        return asdict(self)


FAULT_KEYS = frozenset(f.name for f in fields(Faults))


def check_faults(changes: dict[str, Any]) -> dict[str, Any]:
    """Refuse unknown keys and values of the wrong kind; return the changes normalised."""
    unknown = set(changes) - FAULT_KEYS
    if unknown:
        raise ValueError(f"Unknown setting(s): {', '.join(sorted(unknown))}. Known: {', '.join(sorted(FAULT_KEYS))}.")
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("concurrency_limit", "retry_after", "malformed_status", "malformed_count"):
            out[key] = None if value is None else int(value)
        elif key in (
            "latency_ms", "error_status", "seed", "fail_next", "throttle_next", "timeout_after_commit",
            "async_processors", "async_record_ms",
        ):  # fmt: skip
            out[key] = int(value)
        elif key in ("error_rate", "hold_seconds"):
            out[key] = float(value)
        elif key == "async_hold":
            out[key] = bool(value)
        elif key == "timeout_mode":
            if value not in ("drop", "hold"):
                raise ValueError("timeout_mode is 'drop' or 'hold'.")
            out[key] = value
        elif key == "malformed":
            if value is not None and value not in MALFORMED_MODES:
                raise ValueError(f"malformed is one of {', '.join(MALFORMED_MODES)}, or null.")
            out[key] = value
    if not 0.0 <= out.get("error_rate", 0.0) <= 1.0:
        raise ValueError("error_rate is a share between 0 and 1.")
    return out


class Governor:
    """Hold the current faults and draw the per-request decisions from them, thread-safely."""

    def __init__(self, **faults: Any) -> None:
        self.lock = threading.Lock()
        self.faults = Faults()
        self.rng = random.Random(0)
        self.configure(**faults)

    def configure(self, **changes: Any) -> Faults:
        """Apply changes to the faults (unknown keys refused) and reseed the random generator."""
        changes = check_faults(changes)
        with self.lock:
            for key, value in changes.items():
                setattr(self.faults, key, value)
            self.rng = random.Random(self.faults.seed)
            return Faults(**self.faults.as_dict())

    def reset(self) -> None:
        """Turn every fault off."""
        with self.lock:
            self.faults = Faults()
            self.rng = random.Random(0)

    def throttled(self, in_flight: int) -> bool:
        """Decide whether this request answers 429."""
        with self.lock:
            f = self.faults
            if f.throttle_next > 0:
                f.throttle_next -= 1
                return True
            return f.concurrency_limit is not None and in_flight > f.concurrency_limit

    def failed(self) -> bool:
        """Decide whether this request answers a 5xx instead of being handled."""
        with self.lock:
            f = self.faults
            if f.fail_next > 0:
                f.fail_next -= 1
                return True
            return f.error_rate > 0 and self.rng.random() < f.error_rate

    def malformed(self) -> str | None:
        """Return the malformed answer this request gets, if any, counting it down."""
        with self.lock:
            f = self.faults
            if not f.malformed:
                return None
            mode = f.malformed
            if f.malformed_count is not None:
                if f.malformed_count <= 0:
                    return None
                f.malformed_count -= 1
                if f.malformed_count == 0:
                    f.malformed = None
                    f.malformed_count = None
            return mode

    def lose_answer(self) -> bool:
        """Decide whether this committed write loses its answer."""
        with self.lock:
            if self.faults.timeout_after_commit > 0:
                self.faults.timeout_after_commit -= 1
                return True
            return False


class Stats:
    """Requests seen: in flight now, the peak in flight, and totals by route and by status."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Start counting afresh (requests in flight stay counted)."""
        with self.lock:
            self.in_flight = getattr(self, "in_flight", 0)
            self.peak_in_flight = self.in_flight
            self.total = 0
            self.by_route: Counter[str] = Counter()
            self.by_status: Counter[int] = Counter()

    def enter(self, route: str) -> int:
        """Count a request arriving and return how many are in flight with it."""
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self.total += 1
            self.by_route[route] += 1
            return self.in_flight

    def leave(self, status: int) -> None:
        """Count a request done (before its answer is sent, so a client's next request never overlaps it)."""
        with self.lock:
            self.in_flight -= 1
            self.by_status[status] += 1

    def snapshot(self) -> dict[str, Any]:
        """Return the counts as JSON-ready data."""
        with self.lock:
            return {
                "in_flight": self.in_flight,
                "peak_in_flight": self.peak_in_flight,
                "total_requests": self.total,
                "requests_by_route": dict(self.by_route),
                "responses_by_status": {str(k): v for k, v in self.by_status.items()},
            }
