"""``python -m teslapy_apps.gui``: the desktop app."""
import sys

from teslapy_apps.gui import main

sys.exit(main())
