"""Recovery: an ordered pipeline of steps, each recorded, falling through to the next on failure."""
