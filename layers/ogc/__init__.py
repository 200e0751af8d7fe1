"""OGC API – Features for the published layers."""
