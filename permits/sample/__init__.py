"""The sample half year of the offices' work, lived through the services."""
