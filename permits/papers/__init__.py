"""The dossier's papers as PDFs: the circular's forms 01-04 and the results."""
