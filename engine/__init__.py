"""Rules-as-code compliance evaluator for 菏政发〔2024〕11号.

The pipeline: records (read, normalise, validate) -> policy (rule packs, expressions,
compiler) -> evaluation (durable-rules driver, findings) -> store -> render; the CLI wires them.
"""

__version__ = "0.1.0"
