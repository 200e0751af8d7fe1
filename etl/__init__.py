"""Turning planning files into layers: readers, CRS handling, loading, the sample generator."""
