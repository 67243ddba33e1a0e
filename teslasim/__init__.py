"""A simulated Tesla cloud (SSO, Owner API, streaming, image compositor) on loopback.

Run it with ``python -m teslasim`` or, from Python, ``teslasim.server.running()``.
"""
