"""The fault campaign: random faults, a history kept outside Inngest, invariants checked on it."""
