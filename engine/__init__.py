"""Rules-as-code compliance evaluator for 菏政发〔2024〕11号.

The flow: records (read, normalise, validate) -> policy (rule packs, expressions,
compiler) -> evaluation (durable-rules driver, findings) and store side by side -> pipeline (batches,
workers, resume) -> render; authoring (lint, tests, scaffolds) beside them; the CLI wires them.
"""

__version__ = "0.1.0"
