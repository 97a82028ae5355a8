"""Readers: files, folders, globs, stdin or uploads in any supported format → Articles.

Every reader streams and never raises on bad input: what cannot become an
article comes out as a :class:`~storylines.article.Skipped` with a one-line reason.
"""

from storylines.ingest.base import FieldNames
from storylines.ingest.sources import ReadProgress, read_bytes, read_paths

__all__ = ["FieldNames", "ReadProgress", "read_bytes", "read_paths"]
