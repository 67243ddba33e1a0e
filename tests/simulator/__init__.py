"""Tests of the simulated Tesla cloud itself, over real sockets."""
