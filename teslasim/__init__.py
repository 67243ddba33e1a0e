"""A simulated Tesla cloud (SSO, Owner API, streaming, image compositor) on loopback."""
