"""``python -m ipcviz``: the same as the ``ipcviz`` command."""

import sys

from ipcviz.cli import main

sys.exit(main())
