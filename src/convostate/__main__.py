"""``python -m convostate``: the same command as the ``convostate`` console script."""

from __future__ import annotations

import sys

from convostate._cli.app import main

if __name__ == "__main__":
    sys.exit(main())
