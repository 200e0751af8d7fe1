"""Vector tiles from PostGIS (ST_AsMVT), their TileJSON, caching headers."""
