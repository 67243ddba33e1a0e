"""The teslapy apps: cli, menu and gui, and what they share."""
