"""Prediction in batches from iterables and files, and the example JSON service."""

import json
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sk_slm import (
    predict_file,
    predict_stream,
)


# ------------------------------------------------------------------ streaming
def test_predict_stream_and_file_match_predict(pipe, toy_sentiment, tmp_path):
    X, _ = toy_sentiment
    expected = pipe.predict(X)
    streamed = np.concatenate(list(predict_stream(pipe, iter(X), batch_size=37)))
    np.testing.assert_array_equal(streamed, expected)
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(X) + "\n", encoding="utf-8")
    from_file = np.concatenate(list(predict_file(pipe, path, batch_size=100)))
    np.testing.assert_array_equal(from_file, expected)
    with pytest.raises(ValueError, match="batch_size"):
        next(predict_stream(pipe, X, batch_size=0))

@settings(max_examples=80, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                              lambda inner: st.lists(inner, max_size=4)
                              | st.dictionaries(st.sampled_from(["texts", "x"]), inner,
                                                max_size=2),
                              max_leaves=10).map(lambda v: json.dumps(v).encode())))
def test_the_service_answers_any_body_or_names_what_is_wrong(pipe, body):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "examples"))
    from serve import predict_json

    try:
        answer = predict_json(pipe, body)
    except ValueError as exc:
        assert str(exc)
        return
    assert len(answer["labels"]) == len(answer["proba"])
