"""teslapy: monitor and control Tesla cars, Powerwalls and solar panels via the Owner API."""
__version__ = "1.6.0"
