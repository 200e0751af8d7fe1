"""The officers' mobile office: one queue of dossiers, feedback and tasks, assignments."""
