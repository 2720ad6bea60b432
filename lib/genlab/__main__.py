"""``python -m genlab ...``: the same command line as the ``genlab`` console script."""

import sys

from genlab.course.cli import main

if __name__ == "__main__":
    sys.exit(main())
