"""HTTP: webhooks, health and metrics, the admin view and the simulator."""
