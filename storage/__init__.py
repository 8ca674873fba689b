"""Storage: models, engine and sessions, small functions per aggregate, migrations.

Storage functions never commit: the caller commits once per inbound message or job run.
"""
