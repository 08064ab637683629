"""API Gateway's stage throttling, emulated: one token bucket for the whole stage.

Each request takes a token; tokens come back at `rate` per second up to `burst`. A request
finding none is refused (429) and told when the next token is due (Retry-After).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from functions.catalog import Throttle


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        if rate <= 0 or burst < 1:
            raise ValueError(f"throttle needs rate > 0 and burst >= 1, got rate={rate}, burst={burst}")
        self.rate, self.burst, self._clock = float(rate), int(burst), clock
        self._tokens, self._at = float(burst), clock()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, throttle: Throttle) -> TokenBucket:
        return cls(throttle.rate, throttle.burst)

    def take(self) -> int | None:
        """None if the request may pass; else whole seconds until a token is due (>= 1)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return None
            return max(1, math.ceil((1 - self._tokens) / self.rate))

    def reset(self, rate: float, burst: int) -> None:
        """New limits, starting from a full bucket (a redeployed stage)."""
        fresh = TokenBucket(rate, burst, self._clock)
        with self._lock:
            self.rate, self.burst, self._tokens, self._at = fresh.rate, fresh.burst, fresh._tokens, fresh._at

    def settings(self) -> dict:
        return {"rate": self.rate, "burst": self.burst}
