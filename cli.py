"""Run the teslapy cli app from a clone: `python cli.py --help`."""
import sys

from teslapy_apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
