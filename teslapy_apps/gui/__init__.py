"""Tesla desktop app (tkinter): a dashboard of one car, its picture and menus of commands.

Run as ``teslapy-gui``, ``python gui.py`` from a clone, or with ``--demo`` against the
built-in simulated Tesla cloud. The parts, by file:

``app.py``        the main window: menus, the account and car on screen, status bar
``actions.py``    what the Vehicle and command menus do to the car on screen
``account.py``    the signed-in account, how to sign in, the demo cloud
``dashboard.py``  the data shown (tables and formatting) and its widgets' layout
``commands.py``   the command menus and their values in the car's units
``dialogs.py``    every question and message, scrolling tables
``errors.py``     failures in words, the code as detail
``worker.py``     the thread that makes the library calls
``scrolling.py``  the scrolling frame that lets the window shrink
``settings.py``   the remembered window size
``svg.py``        the captcha drawn as an image
"""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import tkinter as tk
from typing import Optional, Sequence

from teslapy_apps.common import (
    add_debug_option, add_session_options, configure_logging, default_geocoder,
)
from teslapy_apps.gui.app import App
from teslapy_apps.gui.commands import COMMAND_MENUS
from teslapy_apps.gui.dialogs import CaptchaDialog, Dialogs, TableDialog, ValueDialog
from teslapy_apps.gui.settings import default_settings_file
from teslapy_apps.gui.svg import render_svg

__all__ = ["App", "COMMAND_MENUS", "CaptchaDialog", "Dialogs", "TableDialog", "ValueDialog",
           "build_parser", "main", "render_svg"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Tesla Owner API desktop app")
    parser.add_argument("-e", dest="email", metavar="EMAIL", default="",
                        help="login email to fill in")
    add_debug_option(parser)
    add_session_options(parser, geocoding=True)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``teslapy-gui`` and ``gui.py``; returns the exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.debug)
    try:
        root = tk.Tk()
    except tk.TclError as error:
        print("Cannot open a window: %s" % error, file=sys.stderr)
        return 1
    app = App(root, demo=args.demo, email=args.email, geocoder=default_geocoder(args),
              settings_file=default_settings_file(), verify=args.verify, proxy=args.proxy)
    signal.signal(signal.SIGINT, lambda signum, frame: root.after_idle(app.quit))
    root.update()               # show the main window before the login dialog opens on it
    root.after_idle(app.start)
    try:
        root.mainloop()
    except KeyboardInterrupt:
        with contextlib.suppress(tk.TclError):
            app.quit()
    return 0
