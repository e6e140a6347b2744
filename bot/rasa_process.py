"""Start the Rasa server with our run-time fixes applied (bot/rasa_patches.py).

    python -m bot.rasa_process run --model … (the same arguments as `rasa`)
"""

from __future__ import annotations

import os

# One message at a time is a tiny input: more threads only compete with the action server for the
# two cores. Measured per message: less CPU with one TensorFlow thread per pool, and OpenBLAS's
# extra thread spun for ~3 ms CPU. Set before numpy and TensorFlow load; the environment wins.
for _name in ("TF_INTER_OP_PARALLELISM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS",
              "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from bot.rasa_patches import apply_patches  # noqa: E402


def main() -> None:
    apply_patches()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
