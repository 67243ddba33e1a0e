"""Route tables of the simulated services, one module per service."""
