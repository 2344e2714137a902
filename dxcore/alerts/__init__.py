"""Who follows what, what an alert says, and the outbox worker that delivers alerts."""
