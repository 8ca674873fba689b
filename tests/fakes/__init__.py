"""Fakes of the platforms at the HTTP boundary: they answer like the real API and record calls."""
