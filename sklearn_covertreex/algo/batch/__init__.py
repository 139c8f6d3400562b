"""Batch insertion (prefix doubling) and batch deletion."""

from .delete import delete_ids
from .insert import insert_points

__all__ = ["delete_ids", "insert_points"]
