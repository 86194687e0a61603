"""The Temporal comparison: its server, worker, workflows, probes and rubrics."""
