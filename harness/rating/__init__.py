"""The model behind every star: item catalogue, evidence, statistics, results files."""
