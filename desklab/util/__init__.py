"""Small helpers every layer may use (no torch, no Qt): file safety."""
