"""``python -m vigie``: the same command line as the ``vigie`` script."""

from vigie.cli import main

main()
