"""Scheduled jobs as plain async functions of (session, now), and the clock that calls them."""
