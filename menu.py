"""Run the teslapy menu app from a clone: `python menu.py --help`."""
import sys

from teslapy_apps.menu import main

if __name__ == "__main__":
    sys.exit(main())
