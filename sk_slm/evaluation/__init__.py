"""Measuring models: comparison with baselines, paired significance, explanations and
their faithfulness."""
