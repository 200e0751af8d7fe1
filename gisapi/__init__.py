"""civicmap HTTP API: app factory, settings, database, CLI."""
