"""Start the Rasa server with our run-time fixes applied (bot/rasa_patches.py).

    python -m bot.rasa_process run --model … (the same arguments as `rasa`)
"""

from __future__ import annotations

from bot.rasa_patches import apply_patches


def main() -> None:
    apply_patches()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
