"""The ground floor: what every package stands on; it imports no domain package."""
