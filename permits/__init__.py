"""Public services: the procedure catalogue (dossiers, feedback and the office come later)."""
