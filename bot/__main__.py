"""`python -m bot` is the same as the `sinergi` command."""

from bot.cli import main

main()
