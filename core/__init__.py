"""The ground floor: rules every domain package builds on; imports no domain package."""
