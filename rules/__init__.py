"""Package data: the built-in rule packs and the record vocabulary (see engine/resources.py)."""
