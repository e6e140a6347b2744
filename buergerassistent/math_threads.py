"""One thread per numeric library in our services, set before numpy, TensorFlow or the encoder load.

Each service answers one message at a time with tiny inputs (one sentence, one tracker): more
threads only compete with the other services for the cores. Measured in ``make bench``:
- the Rasa process: less CPU per message with one TensorFlow thread per pool; OpenBLAS's extra
  thread spun for about 3 ms CPU per message;
- the action server (the catalogue's sentence encoder and its numpy, buergerassistent/
  semantic_match.py): its second OpenMP and OpenBLAS threads took 2.4 ms CPU per message
  (8.1 -> 5.7 ms per message with one thread each).
Idle OpenMP threads sleep instead of spinning. A value set in the environment wins.
(These variables are read by those libraries, not by us: the one place outside
buergerassistent/settings.py that sets them, see tests/test_settings.py.)
"""

from __future__ import annotations

import os

ONE_THREAD = (
    "TF_INTER_OP_PARALLELISM_THREADS",
    "TF_INTRA_OP_PARALLELISM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
)


def one_thread_each() -> None:
    """Must run before numpy is imported: the libraries read these variables when they load."""
    for name in ONE_THREAD:
        os.environ.setdefault(name, "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
