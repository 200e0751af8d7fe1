"""The layer catalogue: layers, their versions, uploads and publishing."""

from layers.catalogue.repository import record_published

__all__ = ["record_published"]
