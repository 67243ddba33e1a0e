"""The token cache: one entry per email, and the default ``cache.json`` file store.

Shape of the cache (a JSON object)::

    {"<email>": {"url": "<SSO base URL>", "sso": {<SSO token>}, "ownerapi": {<Owner API token>},
                 "api_url": "<Owner API base URL the tokens are for>"}}

The default store is a JSON file (``cache_file``, default ``cache.json``):

* Writes are atomic: the new content goes to a temporary file in the same directory,
  which then replaces the cache with :func:`os.replace`. A crash leaves either the old
  or the new file, never half of one; the temporary file a killed writer leaves
  behind is removed by the next save.
* The file is created readable and writable by its owner only (mode 0600), whatever
  the umask; tokens are secrets.
* Saving reloads the file under a lock (a ``<name>.lock`` file beside it, where the
  platform supports ``fcntl``) and updates only one email's entry, so processes sharing
  the file never drop each other's accounts.
* A file that cannot be parsed (not JSON, or not a JSON object) is never silently
  overwritten: it is moved aside as ``<name>.corrupt-<UTC timestamp>`` with a logged
  warning naming both paths, and the cache starts empty. The user's data stays on
  disk for inspection or repair. A file that cannot be read or written at all
  (permissions, a directory in the way) raises :class:`~teslapy.errors.CacheError`.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import tempfile
from typing import Any, Dict, Iterator, Optional

from teslapy._types import is_bearer_token
from teslapy.errors import CacheError

logger = logging.getLogger(__name__)

DEFAULT_CACHE_FILE = "cache.json"
FILE_MODE = 0o600


def corrupt_name(path: str, now: Optional[datetime.datetime] = None) -> str:
    """The name an unreadable cache file is moved to: ``<path>.corrupt-<UTC time>``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    candidate = f"{path}.corrupt-{now.strftime('%Y%m%dT%H%M%SZ')}"
    suffix = 1
    unique = candidate
    while os.path.lexists(unique):
        suffix += 1
        unique = f"{candidate}-{suffix}"
    return unique


def load_cache_file(path: str) -> Dict[str, Any]:
    """The cache stored in ``path``; ``{}`` when the file does not exist.

    An unparseable file is moved aside (see the module docstring) and ``{}`` returned.

    Raises:
        CacheError: the file exists but cannot be read, or cannot be moved aside.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CacheError(f"Cannot read token cache {path}: {exc.strerror or exc}") from exc
    if not raw.strip():
        return {}
    try:
        cache = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        cache = None
    if isinstance(cache, dict):
        return cache
    aside = corrupt_name(path)
    try:
        os.replace(path, aside)
    except OSError as exc:
        raise CacheError(f"Token cache {path} is not a JSON object and could not be moved "
                         f"aside to {aside}: {exc.strerror or exc}") from exc
    logger.warning("Token cache %s is not a JSON object; moved it to %s and starting "
                   "with an empty cache", path, aside)
    return {}


def dump_cache_file(path: str, cache: Dict[str, Any]) -> None:
    """Write ``cache`` to ``path`` atomically, readable by the owner only.

    Raises:
        CacheError: the file cannot be written (the old file is left as it was).
        TypeError: ``cache`` holds something JSON cannot represent.
    """
    text = json.dumps(cache, indent=2)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle, temp_path = tempfile.mkstemp(
            prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise CacheError(f"Cannot write token cache {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            os.chmod(temp_path, FILE_MODE)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_path, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise CacheError(f"Cannot write token cache {path}: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise


def remove_leftovers(path: str) -> None:
    """Delete temporary files a writer of ``path`` left when it died mid-save.

    Call only while holding :func:`locked` for ``path``: every live writer holds that
    lock while its temporary file exists, so any such file found then is a leftover.
    """
    directory = os.path.dirname(os.path.abspath(path))
    prefix = "." + os.path.basename(path) + "."
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))
                logger.info("Removed %s, left by a save that did not finish", name)


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (no-op where ``fcntl`` is missing).

    Raises:
        CacheError: the lock file cannot be created.
    """
    try:  # POSIX advisory locks; elsewhere saving relies on reload + atomic replace only
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    lock_path = path + ".lock"
    try:
        handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise CacheError(f"Cannot lock token cache {path}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def valid_token(value: Any) -> Optional[Dict[str, Any]]:
    """``value`` if it looks like a token dict (has a bearer ``access_token``), else None."""
    if isinstance(value, dict) and is_bearer_token(value.get("access_token")):
        return value
    return None


def cached_sso_url(cache: Any, email: str) -> Optional[str]:
    """The SSO base URL recorded for ``email`` in a cache, or None."""
    entry = cache.get(email) if isinstance(cache, dict) else None
    url = entry.get("url") if isinstance(entry, dict) else None
    return url if isinstance(url, str) and url else None


def read_entry(cache: Any, email: str, api_url: Optional[str] = None) -> Dict[str, Any]:
    """One email's entry of a cache as ``{"url", "sso", "ownerapi"}`` (missing -> None).

    An entry recorded for another Owner API host than ``api_url`` (its ``api_url``
    differs: tokens of another cloud, e.g. a simulator's) counts as no entry. A
    malformed entry (not an object, tokens that are not token objects) counts as no
    entry, with a logged warning; it never raises.
    """
    entry = cache.get(email) if isinstance(cache, dict) else None
    if entry is None:
        return {"url": None, "sso": None, "ownerapi": None}
    if not isinstance(entry, dict):
        logger.warning("Ignoring the cached entry of %s: it is not an object", email)
        return {"url": None, "sso": None, "ownerapi": None}
    recorded_api = entry.get("api_url")
    if api_url and isinstance(recorded_api, str) and recorded_api != api_url:
        logger.info("Ignoring the cached tokens of %s: they are for %s, not %s",
                    email, recorded_api, api_url)
        return {"url": None, "sso": None, "ownerapi": None}
    url = entry.get("url") if isinstance(entry.get("url"), str) and entry.get("url") else None
    sso = valid_token(entry.get("sso"))
    owner = valid_token(entry.get("ownerapi"))
    if entry.get("ownerapi") is not None and owner is None:
        logger.warning("Ignoring the cached Owner API token of %s: it is malformed", email)
    if entry.get("sso") is not None and sso is None:
        logger.warning("Ignoring the cached SSO token of %s: it is malformed", email)
    return {"url": url, "sso": sso, "ownerapi": owner}
