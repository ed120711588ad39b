"""Stripe billing: a customer per team, plan subscriptions, metered usage, signed webhooks."""
