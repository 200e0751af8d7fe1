"""Readers turn a planning file into a batch of features; one module per format."""

from etl.readers.base import FeatureBatch, Reader, ReaderError
from etl.readers.ogr import OgrReader

__all__ = ["FeatureBatch", "OgrReader", "Reader", "ReaderError"]
