"""The window's remembered size, in a small JSON file in the user's config directory.

The file (``teslapy/gui.json`` under ``$XDG_CONFIG_HOME``, ``~/.config``,
``%APPDATA%`` or ``~/Library/Application Support``) is created readable by its owner
only. A file that cannot be read is reported once and never overwritten, so nothing
in it is lost.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

logger = logging.getLogger(__name__)

SMALLEST = (320, 240)
LARGEST = (20000, 20000)


class SettingsError(ValueError):
    """The settings file holds something other than the settings this app writes."""


def default_settings_file() -> Path:
    """Where the GUI keeps its settings on this platform."""
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "teslapy" / "gui.json"


def parse_settings(text: str) -> Dict[str, Any]:
    """The settings in a file's text: a JSON object whose ``window`` entry, when
    present, is ``{"width": int, "height": int}`` within sensible bounds.

    Raises SettingsError saying what is wrong.
    """
    try:
        settings = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SettingsError("not JSON (%s)" % error) from error
    if not isinstance(settings, dict):
        raise SettingsError("not a JSON object")
    if "window" in settings:
        window_size(settings)
    return settings


def window_size(settings: Dict[str, Any]) -> Optional[Tuple[int, int]]:
    """The ``(width, height)`` in parsed settings, or None when none is saved.

    Raises SettingsError for a size that is not two whole numbers in bounds.
    """
    window = settings.get("window")
    if window is None:
        return None
    if not isinstance(window, dict):
        raise SettingsError("'window' is not an object")
    size = []
    for key, low, high in (("width", SMALLEST[0], LARGEST[0]),
                           ("height", SMALLEST[1], LARGEST[1])):
        value = window.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SettingsError("window %s must be a whole number from %d to %d, not %r"
                                % (key, low, high, value))
        size.append(value)
    return size[0], size[1]


class WindowSettings:
    """Reads and writes the settings file; ``path=None`` keeps nothing."""

    def __init__(self, path: Optional[Path]) -> None:
        self.path = path
        self._settings: Dict[str, Any] = {}
        self._writable = path is not None
        if path is None:
            return
        try:
            self._settings = parse_settings(path.read_text("utf-8"))
        except FileNotFoundError:
            pass
        except (OSError, UnicodeDecodeError, SettingsError) as error:
            logger.warning("Ignoring the window settings in %s (%s); the file is left "
                           "as it is", path, error)
            self._writable = False

    @property
    def size(self) -> Optional[Tuple[int, int]]:
        """The remembered window size, if any."""
        return window_size(self._settings)

    def save_size(self, width: int, height: int) -> None:
        """Remember the window size (clamped to the bounds), keeping other entries."""
        if not self._writable or self.path is None:
            return
        width = min(max(int(width), SMALLEST[0]), LARGEST[0])
        height = min(max(int(height), SMALLEST[1]), LARGEST[1])
        self._settings["window"] = {"width": width, "height": height}
        try:
            self._write(self.path, json.dumps(self._settings, indent=2) + "\n")
        except OSError as error:
            logger.warning("Cannot save the window size to %s (%s)", self.path, error)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        """Replace the file in one step with an owner-only file (0600)."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".gui-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
