"""Models: what is random and what the spins are (multilayer SK, mixed p-spin, ...)."""
