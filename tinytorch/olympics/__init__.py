"""The Torch Olympics (module 20): tracks, submissions and a fair, isolated evaluation.

- ``tracks``: every rule of the competition (``TRACKS``, ``get_track``).
- ``submission``: the submission directory (``load_manifest``, ``pack_submission``).
- ``evaluate``: ``evaluate(directory)`` measures a submission whose model runs in a
  separate, limited process (``model_process``, spoken to over ``protocol``); import it from
  ``tinytorch.olympics.evaluate``.
- ``results``: judging and ranking (``judge``, ``rank``, ``format_table``).

Example::

    >>> from tinytorch.olympics.evaluate import evaluate
    >>> evaluation = evaluate("my_submission")          # the track its manifest names
    >>> evaluation.valid, evaluation.score
"""

from tinytorch.olympics.results import format_table, judge, rank
from tinytorch.olympics.submission import (
    Manifest,
    SubmissionError,
    load_manifest,
    pack_submission,
)
from tinytorch.olympics.tracks import TRACKS, Track, get_track

__all__ = [
    "TRACKS",
    "Manifest",
    "SubmissionError",
    "Track",
    "format_table",
    "get_track",
    "judge",
    "load_manifest",
    "pack_submission",
    "rank",
]
