"""What must never reach the state store: values under keys that name a secret, at any depth."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

#: Words that mark a key as holding a secret (matched as whole words: ``api_key``, ``registrationKey``).
SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "passphrase", "secret", "token", "key", "credential", "credentials"}
)
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


# Results carry the same few dozen keys over and over: deciding once per key keeps the scrub cheap
# on the callback's path without weakening it (the answer depends on the key alone).
@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """True when a key names a secret: one of its words (snake, kebab or camel case) is a secret word."""
    words = [word.lower() for word in _WORD_SPLIT.split(key) if word]
    return any(word in SECRET_WORDS or word.rstrip("s") in SECRET_WORDS for word in words)


def scrub(value: Any) -> Any:
    """Drop every mapping key that looks like a secret, at any depth."""
    if isinstance(value, Mapping):
        kept = {}
        for key, item in value.items():
            name = key if type(key) is str else str(key)
            if not is_secret_key(name):
                kept[name] = item if isinstance(item, _SCALARS) else scrub(item)
        return kept
    if isinstance(value, (list, tuple)):
        return [item if isinstance(item, _SCALARS) else scrub(item) for item in value]
    return value


# Values that hold no keys: kept as they are without a call (most of a result's values).
_SCALARS = (str, int, float, type(None))
