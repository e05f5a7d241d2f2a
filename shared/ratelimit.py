"""The in-service rate limit of the public endpoints: those that admit callers without a token
(`allow(Role.public)`, shared/auth.py), limited per client address. The edge (the Ingress) limits
every route; this limit stays when a request reaches a pod some other way, and is the one that
knows which routes are public.

The counting is `limits` (the engine of slowapi): a moving window per client address, in the
memory of the process. Each replica counts on its own, so a client spread over n pods gets up to
n times the limit; a restart forgets. slowapi's own entry points are not used: its decorator
needs a `request` parameter on every endpoint, and its Limiter reads RATELIMIT_* settings from a
`.env` file in the working directory."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.exceptions import HTTPException


class RateLimited(HTTPException):
    """429; the problem handlers turn it into an RFC 9457 problem and keep its Retry-After."""

    def __init__(self, limit: RateLimitItem, retry_after: int):
        super().__init__(
            429, detail=f"More than {limit} from this address to the public endpoints; "
                        f"retry after {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


class RateLimit:
    """One limit (e.g. "60/minute", or several: "10/second;300/hour") per key (a client address)."""

    def __init__(self, spec: str, *, scope: str = "public"):
        self.items = parse_many(spec)
        self.scope = scope
        self._counter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key: str) -> None:
        """Count one request of `key`; RateLimited when it is one too many."""
        for item in self.items:
            if not self._counter.hit(item, self.scope, key):
                reset = self._counter.get_window_stats(item, self.scope, key).reset_time
                raise RateLimited(item, max(1, math.ceil(reset - time.time())))
