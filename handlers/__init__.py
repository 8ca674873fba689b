"""Journeys, one module each; they see neutral messages and storage, never a platform."""
