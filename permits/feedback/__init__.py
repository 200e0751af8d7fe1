"""Citizen feedback (phản ánh kiến nghị): reports on the map, on the workflow engine."""
