"""The `sinergi` subcommands, one module each; bot/cli.py lists them."""
