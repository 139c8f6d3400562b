"""Pure orchestration of tree building and querying (no I/O, no globals)."""
