"""The roof: the app factory, the CLI root, the server; nothing imports it."""
