"""GridSearchCV over the full pipeline on a Dask cluster (joblib's dask backend)."""

import os
import signal
import threading
import time

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

distributed = pytest.importorskip("distributed")

from sk_slm import JiebaSegmenter, LSTMAttentionClassifier, Word2VecVectorizer  # noqa: E402
from sk_slm.distributed import dask_backend  # noqa: E402

GRID = {"jiebasegmenter__granularity": ["word", "char"],
        "lstmattentionclassifier__hidden_size": [8, 16]}


def pipeline():
    return make_pipeline(
        JiebaSegmenter(),
        Word2VecVectorizer(output="sequence", vector_size=8, min_count=1, random_state=0),
        LSTMAttentionClassifier(module__attention_size=4, max_epochs=3,
                                bag_ngrams=0, random_state=0),
    )


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as lc, Client(lc) as client:
        yield lc, client


def search(X, y, backend=None, client=None):
    import joblib

    grid = GridSearchCV(pipeline(), GRID, cv=2, n_jobs=-1 if backend else None)
    if backend == "resilient":
        with dask_backend(client, scatter=[X, y]):
            grid.fit(X, y)
    elif backend:
        with joblib.parallel_backend(backend):
            grid.fit(X, y)
    else:
        grid.fit(X, y)
    return grid


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["dask", "resilient"])
def test_dask_search_equals_local_search(cluster, toy_sentiment, backend):
    X, y = toy_sentiment
    local = search(X, y)
    remote = search(X, y, backend=backend, client=cluster[1])
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))


@pytest.mark.slow
def test_search_survives_a_killed_worker(cluster, toy_sentiment):
    lc, client = cluster
    X, y = toy_sentiment
    victim_address, victim = next(iter(client.run(os.getpid).items()))
    finished = threading.Event()
    killed_mid_search = []

    def kill_while_it_works():
        # Deterministic: wait until the scheduler has a task of the search running on
        # the victim, then kill it with SIGKILL (no clean shutdown, data on it is lost).
        deadline = time.monotonic() + 60
        while not client.processing().get(victim_address) and time.monotonic() < deadline:
            time.sleep(0.01)
        killed_mid_search.append(not finished.is_set())
        os.kill(victim, signal.SIGKILL)

    Xb, yb = X * 4, np.asarray(list(y) * 4)
    grid = GridSearchCV(pipeline(), GRID, cv=2, n_jobs=-1)
    killer = threading.Thread(target=kill_while_it_works)
    killer.start()
    # The data is broadcast to every worker; the tasks the dead worker held run again.
    with dask_backend(client, scatter=[Xb, yb]):
        grid.fit(Xb, yb)
    finished.set()
    killer.join()
    assert killed_mid_search == [True], "the search ended before the worker was killed"
    assert victim not in client.run(os.getpid).values(), "the worker was really killed"
    # The re-run tasks give what an undisturbed local search gives.
    local = search(Xb, yb)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])
    assert grid.best_params_ == local.best_params_


@pytest.mark.slow
def test_dask_threaded_workers_give_the_sequential_search_exactly(toy_sentiment):
    from distributed import Client, LocalCluster

    X, y = toy_sentiment
    local = search(X, y)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None, silence_logs=40) as lc, Client(lc) as client:
        threaded = search(X, y, backend="dask", client=client)
    # Same process, same torch threads: the seeded fits equal the sequential ones exactly.
    np.testing.assert_array_equal(threaded.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(threaded.predict_proba(X), local.predict_proba(X))
