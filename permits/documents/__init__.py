"""A dossier's documents: uploads checked by content, scanned, kept by hash, swept."""
