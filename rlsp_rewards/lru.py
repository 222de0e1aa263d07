"""One thread-safe, bounded LRU cache with hit and miss counts, on ``cachetools``.

The verdict cache of the verifier, the judge's cache of grades and the loaded tokenizers all use
it, so every cache of the library has the same locking, the same bound and the same statistics
(which the server exports as Prometheus metrics).

Example:
    >>> cache = LruCache(2)
    >>> cache.put("a", 1); cache.put("b", 2); cache.put("c", 3)
    >>> cache.get("a"), cache.get("c"), cache.stats()
    (None, 3, {'hits': 1, 'misses': 1, 'entries': 2})
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

__all__ = ["LruCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A bounded map that forgets the least recently used entry first; safe across threads.

    Args:
        size: the most entries kept; 0 turns the cache off (``put`` keeps nothing).

    Example:
        >>> LruCache(0).put("x", 1) is None and len(LruCache(0)) == 0
        True
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: LRUCache[K, V] = LRUCache(maxsize=max(size, 1))
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        """The value for ``key`` (now the most recently used), or ``None``; counted."""
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: K, value: V) -> None:
        """Remember ``value`` for ``key``, forgetting the oldest entry when full."""
        if self.size == 0:
            return
        with self._lock:
            self._items[key] = value

    def clear(self) -> None:
        """Forget every entry (the counts stay)."""
        with self._lock:
            self._items.clear()

    def stats(self) -> dict[str, int]:
        """``{"hits": ..., "misses": ..., "entries": ...}`` since the cache was made."""
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "entries": len(self._items)}

    def __len__(self) -> int:
        return len(self._items)
