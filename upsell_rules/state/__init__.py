"""Memory between runs: the state store, the decision log, transitions, holds and the outbox."""
