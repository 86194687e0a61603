"""The verification harness behind common.py: dev server, app, evidence, results, output."""
