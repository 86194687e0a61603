"""What probes drive and measure Inngest with: the served app, runs, timing, the ledger."""
