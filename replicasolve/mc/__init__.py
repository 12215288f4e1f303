"""Monte Carlo: replicas on finite instances (the check against the replica theory)."""
