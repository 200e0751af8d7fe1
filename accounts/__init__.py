"""Accounts: people, roles, sign-up with a one-time code, sessions, the notification outbox."""
