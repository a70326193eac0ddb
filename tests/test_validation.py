"""The declarative parameter validation every sk_slm estimator uses."""

from numbers import Integral, Real

import numpy as np
import pytest

from sk_slm import BlendingClassifier, JiebaSegmenter, LSTMAttentionClassifier, Word2VecVectorizer
from sk_slm._validation import Interval, Options, validate_params, warn_ineffective


@pytest.mark.parametrize("interval, accepted, refused", [
    (Interval(Integral, 1, None), [1, 5, np.int64(7)], [0, -1, 1.5, True, "3", None]),
    (Interval(Real, 0, 1, closed="neither"), [0.5, 1e-9, np.float32(0.3)], [0, 1, 2, False]),
    (Interval(Real, 0, 1, closed="left"), [0, 0.999], [1, -0.1]),
    (Interval(Integral, None, -1), [-1, -100], [0, 1]),
])
def test_intervals(interval, accepted, refused):
    assert all(interval.accepts(v) for v in accepted)
    assert not any(interval.accepts(v) for v in refused)


def test_options_match_kind_and_value():
    assert Options("head", "tail").accepts("tail") and Options("a").accepts(np.str_("a"))
    assert not Options("head").accepts("middle")
    assert Options(0, 1).accepts(np.int64(1)) and not Options(0, 1).accepts(True)
    assert not Options(-1).accepts("-1")


class Thing:
    def __init__(self, size=3, how="head", flag=True, cap=None):
        self.size, self.how, self.flag, self.cap = size, how, flag, cap

    _constraints = {"size": [Interval(Integral, 1, None)],
                              "how": [Options("head", "tail")], "flag": ["boolean"],
                              "cap": [Interval(Integral, 1, None), None]}


@pytest.mark.parametrize("params, message", [
    ({"size": 0}, r"The 'size' parameter of Thing must be an int in the range \[1, inf\]; got 0"),
    ({"how": "x"}, r"'how' parameter of Thing must be one of \['head', 'tail'\]; got 'x'"),
    ({"flag": 1}, r"'flag' parameter of Thing must be True or False; got 1"),
    ({"cap": 0}, r"'cap' parameter of Thing must be one of: an int in the range \[1, inf\], "
                 r"None; got 0"),
])
def test_the_first_failing_parameter_is_named_with_what_it_must_be(params, message):
    validate_params(Thing(), Thing._constraints)
    with pytest.raises(ValueError, match=message):
        validate_params(Thing(**params), Thing._constraints)


def test_only_parameters_moved_from_their_default_are_called_ineffective():
    with pytest.warns(UserWarning, match=r"^size=5, how='tail' has no effect: because\.$"):
        warn_ineffective(Thing(size=5, how="tail"), ["size", "how", "flag"], "because")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_ineffective(Thing(), ["size", "how", "flag"], "because")


@pytest.mark.parametrize("estimator", [JiebaSegmenter, Word2VecVectorizer,
                                       LSTMAttentionClassifier, BlendingClassifier])
def test_every_constrained_parameter_is_a_parameter_and_its_default_passes(estimator):
    table = estimator._constraints
    params = (estimator([]) if estimator is BlendingClassifier else estimator()).get_params()
    assert set(table) <= set(params)
    instance = estimator([]) if estimator is BlendingClassifier else estimator()
    validate_params(instance, table)
