"""A dossier's results: the documents the office issues, signed so that a PDF reader verifies
them."""
