"""`python -m mock_finapi`: the `mock-finapi` command, for environments without its console script on PATH."""

import sys

from mock_finapi.cli import main

sys.exit(main())
