"""`python -m fastconv ...` runs the `fastconv` command."""
import sys

from .cli import main

sys.exit(main())
