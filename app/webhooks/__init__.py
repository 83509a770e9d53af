"""Webhooks: endpoints per organisation, events, and the delivery outbox and log."""
