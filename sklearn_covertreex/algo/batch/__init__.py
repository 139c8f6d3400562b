"""Batch insertion (prefix doubling) and batch deletion."""

from .delete import delete_ids
from .insert import insert_points
from .schedule import doubling_schedule, single_schedule

__all__ = ["delete_ids", "doubling_schedule", "insert_points", "single_schedule"]
