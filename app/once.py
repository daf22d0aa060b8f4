"""Process-wide singletons built once, even when the first calls race (a thread pool's tasks start together).

`functools.lru_cache` alone is thread-safe for its own dict but may run the factory twice on a cold cache: two
engines, two limiters with two heartbeat threads, two NetSuite clients. `built_once` serializes the build.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def built_once(fn: F) -> F:
    """Cache `fn` per arguments; a cold call builds under a lock, a warm one reads the cache without it."""
    cache: dict[tuple, Any] = {}
    lock = threading.RLock()

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        try:
            return cache[args]
        except KeyError:
            pass
        with lock:
            if args not in cache:
                cache[args] = fn(*args)
            return cache[args]

    wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
