"""recovery-drill: chaos recovery drills for databases."""
