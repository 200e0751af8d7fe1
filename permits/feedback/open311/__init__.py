"""The Open311 GeoReport v2 face of citizen feedback."""
