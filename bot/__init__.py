"""Sinergi: the assembly (config, app, CLI, neutral messages, core, channels, web)."""
