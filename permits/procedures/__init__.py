"""The procedure catalogue: what a citizen can start, as data administrators keep."""
