"""The names most callers import about records: the record models and the ``Normaliser``.

The code is in ``record`` (``RawRecord``, ``Record``, ``SourceRef``, ``RecordError``) and
``normalise`` (the ``Normaliser``, with ``headers``, ``identity``, ``kindmodel`` and ``layout``).
"""

from engine.records.normalise import Normaliser
from engine.records.record import RawRecord, Record, SourceRef

__all__ = ["Normaliser", "RawRecord", "Record", "SourceRef"]
