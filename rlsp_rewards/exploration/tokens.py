"""Counting response tokens with a local tokenizer, loaded once per process per path.

A tokenizer is a live handle: it is never pickled, it is loaded on first use (so building a
reward, or unpickling one in a Ray worker, stays cheap), and every reward in a process that
names the same path shares one instance. ``transformers`` is an optional dependency
(``pip install "rlsp-rewards[tokenizer]"``).

Counting uses the fast tokenizer's Rust backend directly, without special tokens, truncation or
padding: the Python wrapper reconfigures the backend on every call, which is not safe when
several threads count at once. Slow (Python) tokenizers are called under a lock.

Example:
    >>> counter = TokenCounter("/no/such/tokenizer")
    >>> counter.path
    '/no/such/tokenizer'
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from rlsp_rewards.errors import TokenizerError, require
from rlsp_rewards.lru import LruCache

__all__ = ["TokenCounter", "TokenizerLoadError"]

logger = logging.getLogger("rlsp_rewards")

#: path -> the loaded tokenizer, or the exception that loading raised (so it is not retried)
_loaded: LruCache[str, Any] = LruCache(16)
_load_lock = threading.Lock()
_slow_lock = threading.Lock()


class TokenizerLoadError(TokenizerError):
    """The tokenizer at a path could not be loaded (reported once per process, then cached)."""


def _load(path: str) -> Any:
    found = _loaded.get(path)
    if found is None:
        with _load_lock:
            found = _loaded.get(path)
            if found is None:
                try:
                    from transformers import AutoTokenizer

                    found = AutoTokenizer.from_pretrained(path)
                    backend = getattr(found, "backend_tokenizer", None)
                    if backend is not None:
                        backend.no_truncation()
                        backend.no_padding()
                except Exception as exc:  # a bad path must not be retried on every sample
                    found = TokenizerLoadError(
                        f"could not load the tokenizer {path!r}: {type(exc).__name__}: {exc}"
                    )
                    logger.warning("%s; lengths fall back to characters / 4", found)
                _loaded.put(path, found)
    if isinstance(found, TokenizerLoadError):
        raise found
    return found


class TokenCounter:
    """Counts tokens with the tokenizer at ``path`` (anything ``AutoTokenizer`` can load).

    Args:
        path: a local directory (or a hub name already in the local cache).

    Raises:
        DependencyError: when ``transformers`` is not installed, with the pip line.

    Example:
        >>> TokenCounter("/models/qwen").path
        '/models/qwen'
    """

    def __init__(self, path: str) -> None:
        require("transformers", "tokenizer")
        self.path = path

    def count(self, text: str) -> int:
        """The number of tokens of ``text``, without special tokens.

        Raises:
            TokenizerLoadError: when the tokenizer cannot be loaded (every call, cheaply).
        """
        return len(self.ids(text))

    def ids(self, text: str) -> list[int]:
        """The token ids of ``text``, without special tokens (the repetition penalty's unit).

        Raises:
            TokenizerLoadError: when the tokenizer cannot be loaded (every call, cheaply).
        """
        tokenizer = _load(self.path)
        try:
            return _encoded_ids(tokenizer, text)
        except (TypeError, UnicodeError):
            if not _SURROGATE.search(text):
                raise
        # Lone surrogates (a JSON body can carry them) are not valid Unicode, which the
        # tokenizer refuses: each counts as one U+FFFD, as a decoder would have produced.
        return _encoded_ids(tokenizer, _SURROGATE.sub("\ufffd", text))

    def count_batch(self, texts: list[str]) -> list[int]:
        """The token counts of several texts in one call to the tokenizer (its Rust backend
        encodes a batch on all cores, without the GIL); the same counts as :meth:`count`.

        Raises:
            TokenizerLoadError: when the tokenizer cannot be loaded.
            Exception: whatever the tokenizer raises for one of the texts (lone surrogates,
                say): count those one by one.
        """
        tokenizer = _load(self.path)
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            return [self.count(text) for text in texts]
        return [len(e.ids) for e in backend.encode_batch(texts, add_special_tokens=False)]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _encoded_ids(tokenizer: Any, text: str) -> list[int]:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return backend.encode(text, add_special_tokens=False).ids
    with _slow_lock:
        return tokenizer.encode(text, add_special_tokens=False)
