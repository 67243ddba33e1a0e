"""Run the teslapy gui app from a clone: `python gui.py --help`."""
import sys

from teslapy_apps.gui import main

if __name__ == "__main__":
    sys.exit(main())
