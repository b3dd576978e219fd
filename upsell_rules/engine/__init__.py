"""Deciding accounts: one account, a stream of them, parallel workers, and explain."""
