"""The batch pipeline: reading → evaluating → storing, with chunking, worker processes and resume.

It sits above both evaluation and the store, which know nothing of each other: evaluation judges
records, the store writes what it is given, and this stage moves chunks between them.
"""
