"""The same seed gives the same model in separate processes."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest


# ------------------------------------------------------------------ reproducibility
@pytest.mark.slow
def test_full_pipeline_identical_in_two_processes(tmp_path):
    code = textwrap.dedent(
        """
        import sys, numpy as np
        from sk_slm import load_reviews, make_lstm_pipeline
        X, y = load_reviews(return_X_y=True)
        X, y = X[:600], y[:600]  # load_reviews mixes the classes
        pipe = make_lstm_pipeline(max_epochs=2, hidden_size=16, random_state=3).fit(X, y)
        np.save(sys.argv[1], pipe.predict_proba(X))
        """
    )
    outs = []
    for seed in ("0", "4242"):
        out = tmp_path / f"p{seed}.npy"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        subprocess.run([sys.executable, "-c", code, str(out)], env=env, check=True)
        outs.append(np.load(out))
    np.testing.assert_array_equal(outs[0], outs[1])
