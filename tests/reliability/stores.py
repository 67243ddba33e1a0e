"""A token store of the user's own (not teslapy's cache file), shared by processes through a lock.

It keeps the whole cache in one JSON document and offers the three hooks ``Tesla``
takes: ``cache_loader``, ``cache_dumper`` and ``cache_lock``.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from typing import Any, Dict, Iterator


class SharedStore:
    """The cache as ``<directory>/tokens.json``, locked through ``<directory>/tokens.guard``."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "tokens.json")
        self.guard = os.path.join(directory, "tokens.guard")

    def load(self) -> Dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return {}

    def dump(self, cache: Dict[str, Any]) -> None:
        temporary = self.path + f".{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(cache, handle)
        os.replace(temporary, self.path)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        handle = os.open(self.guard, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)

    def hooks(self) -> Dict[str, Any]:
        """The keyword arguments that make a ``Tesla`` use this store."""
        return {"cache_loader": self.load, "cache_dumper": self.dump, "cache_lock": self.lock}
