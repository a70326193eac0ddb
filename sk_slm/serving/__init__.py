"""Fitted models out of the notebook: the safe file format, ONNX, streaming prediction."""
