"""The pre-check: a planned building's answers against what its parcel allows."""
