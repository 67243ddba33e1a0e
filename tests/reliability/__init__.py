"""Reliability: concurrency, crashes, faults and hostile input, against real servers and processes."""
