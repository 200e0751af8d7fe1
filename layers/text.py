"""Text normalisation for diacritic-insensitive Vietnamese search."""

import unicodedata


def normalize_search(text: str) -> str:
    """Lower-case, diacritics stripped (đ too) and single-spaced: how search terms are matched."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.lower().split())
