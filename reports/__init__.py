"""Package data: the letter and notice templates (see engine/resources.py)."""
