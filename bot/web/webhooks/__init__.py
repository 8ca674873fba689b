"""The platforms' webhooks: check the credential, store the raw update, answer 200."""
