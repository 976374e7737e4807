"""Alert rules, engine, channels and the outbox dispatcher (see issue 3)."""
