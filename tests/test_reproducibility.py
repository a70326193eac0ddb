"""The same seed gives the same model in separate processes (any hash seed)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest


def outputs_in_two_processes(code: str, tmp_path) -> list:
    """What ``code`` saves to ``sys.argv[1]`` in two processes with other hash seeds."""
    outs = []
    for seed in ("0", "4242"):
        out = tmp_path / f"p{seed}.npy"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        subprocess.run([sys.executable, "-c", textwrap.dedent(code), str(out)], env=env,
                       check=True)
        outs.append(np.load(out))
    return outs


@pytest.mark.slow
def test_full_pipeline_identical_in_two_processes(tmp_path):
    a, b = outputs_in_two_processes(
        """
        import sys, numpy as np
        from sk_slm import load_reviews, make_lstm_pipeline
        X, y = load_reviews(return_X_y=True)
        X, y = X[:600], y[:600]  # load_reviews mixes the classes
        pipe = make_lstm_pipeline(max_epochs=2, hidden_size=16, random_state=3).fit(X, y)
        np.save(sys.argv[1], pipe.predict_proba(X))
        """, tmp_path)
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_word2vec_vectors_identical_in_two_processes(tmp_path):
    a, b = outputs_in_two_processes(
        """
        import sys, numpy as np
        from sk_slm import JiebaSegmenter, Word2VecVectorizer
        docs = JiebaSegmenter().fit_transform(["我爱北京天安门", "今天天气很好", "北京欢迎你"] * 20)
        v = Word2VecVectorizer(vector_size=16, min_count=1, random_state=7).fit(docs)
        np.save(sys.argv[1], v.transform(docs))
        """, tmp_path)
    np.testing.assert_array_equal(a, b)
