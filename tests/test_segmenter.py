import functools
import os
import pickle
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from sk_slm import JiebaSegmenter, SegmentedDocuments, passthrough_analyzer
from sk_slm.text.segmenter import _SEGMENTATION_CACHE, clear_segmentation_cache


def seg(docs, **params):
    return JiebaSegmenter(**params).fit_transform(docs)


def test_basic_word_segmentation_keeps_order_and_empty_docs():
    out = seg(["我爱北京天安门", "", "   ", "今天天气不错"])
    assert type(out) is list
    assert out[0] == ["我", "爱", "北京", "天安门"]
    assert out[1] == [] and out[2] == []
    assert "".join(out[3]) == "今天天气不错"


@pytest.mark.parametrize(
    "container",
    [list, tuple, np.array, pd.Series, lambda d: np.array(d, dtype=object)],
)
def test_accepts_any_1d_container(container):
    docs = ["我爱北京", "你好"]
    assert seg(container(docs)) == [["我", "爱", "北京"], ["你好"]]


def test_fit_transform_reads_a_generator_once():
    assert seg(d for d in ["我爱北京", "你好"]) == [["我", "爱", "北京"], ["你好"]]


def test_one_column_dataframe_and_2d_errors():
    assert seg(pd.DataFrame({"t": ["你好"]})) == [["你好"]]
    with pytest.raises(ValueError, match="2 columns"):
        seg(pd.DataFrame({"a": ["x"], "b": ["y"]}))
    with pytest.raises(ValueError, match="1-D"):
        seg(np.array([["a", "b"]]))


def test_bare_string_is_refused():
    with pytest.raises(TypeError, match="list of documents"):
        seg("我爱北京")
    with pytest.raises(TypeError, match="list of documents"):
        JiebaSegmenter().fit(b"bytes")


@pytest.mark.parametrize("bad", [None, float("nan"), b"bytes", 3, 2.5])
def test_invalid_entry_names_its_position(bad):
    with pytest.raises(ValueError, match=r"X\[1\]"):
        seg(["好", bad, "坏"])
    out = seg(["好", bad, "坏"], on_invalid="empty")
    assert out == [["好"], [], ["坏"]]


def test_modes_differ_as_jieba_does():
    doc = ["中华人民共和国成立了"]
    accurate = seg(doc)[0]
    full = seg(doc, mode="full")[0]
    search = seg(doc, mode="search")[0]
    assert "中华人民共和国" in accurate and "中华" not in accurate
    assert {"中华", "华人", "共和国"} <= set(full)
    assert {"中华", "共和国", "中华人民共和国"} <= set(search)


def test_hmm_controls_unknown_word_discovery():
    doc = ["他来到了网易杭研大厦"]
    assert "杭研" in seg(doc, hmm=True)[0]
    assert "杭研" not in seg(doc, hmm=False)[0]


def test_char_granularity_keeps_latin_and_numbers_whole():
    out = seg(["iPhone15发布会在2023.9举行 ok!"], granularity="char")[0]
    assert out == ["iphone", "15", "发", "布", "会", "在", "2023.9", "举", "行", "ok", "!"]


def test_user_dict_words_and_pairs_and_file(tmp_path):
    doc = ["江大桥在重庆会议"]
    assert "江大桥" not in seg(doc, hmm=False)[0]
    assert "江大桥" in seg(doc, hmm=False, user_dict=["江大桥"])[0]
    assert "江大桥" in seg(doc, hmm=False, user_dict=[("江大桥", 20000)])[0]
    path = tmp_path / "dict.txt"
    path.write_text("江大桥 20000 nr\n重庆会议\n", encoding="utf-8")
    out = seg(doc, hmm=False, user_dict=str(path))[0]
    assert "江大桥" in out and "重庆会议" in out


@pytest.mark.slow
def test_user_words_do_not_leak_into_jieba_global_or_other_instances():
    import jieba

    doc = ["江大桥在重庆"]
    seg(doc, hmm=False, user_dict=["江大桥"])
    assert "江大桥" not in seg(doc, hmm=False)[0]
    assert "江大桥" not in jieba.lcut(doc[0], HMM=False)


def test_user_dict_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="user_dict"):
        seg(["x"], user_dict=str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match=r"user_dict\[1\]"):
        seg(["x"], user_dict=["好", 3])
    with pytest.raises(TypeError, match="user_dict"):
        seg(["x"], user_dict=42)


def test_stop_words_named_and_custom():
    doc = ["我的书和你的笔"]
    assert "的" not in seg(doc, stop_words="chinese")[0]
    assert seg(doc, stop_words=["书", "笔"])[0] == ["我", "的", "和", "你", "的"]
    with pytest.raises(ValueError, match="stop_words"):
        seg(doc, stop_words="english")


def test_normalize_folds_full_width_and_case():
    assert seg(["ＡＢＣ１２３"])[0] == ["abc123"]
    assert seg(["ＡＢＣ１２３"], normalize=False)[0] != ["abc123"]
    # Stop words are normalized like the text.
    assert seg(["ＡＢＣ 好"], stop_words=["ABC"])[0] == ["好"]


# Full-width forms, the ideographic space, other compatibility characters (circled
# digits, ligatures, roman numerals, ellipsis), combining marks and anything else.
_NFKC_PRONE = st.lists(
    st.text(
        st.one_of(
            st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),
            st.sampled_from("\u3000①Ⅻﬁ…℃\u0301\u0308İǅ"),
            st.characters(blacklist_characters="\x1e"),
        ),
        max_size=12,
    ),
    max_size=6,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(_NFKC_PRONE)
def test_fast_normalization_equals_nfkc_then_lower(docs):
    import unicodedata

    from sk_slm.text.segmenter import _normalize_many

    assert _normalize_many(docs) == [unicodedata.normalize("NFKC", d).lower() for d in docs]


# Chinese words and names, Latin, digits, punctuation, every kind of whitespace (jieba
# treats "\r\n" as one token) and the separator the segmenter joins documents with.
_JIEBA_PRONE = st.lists(
    st.text(
        st.one_of(
            st.sampled_from(list("我爱北京天安门工信处女干事每月经过下属科室年的了")),
            st.sampled_from(["\r", "\n", " ", "\t", "\u3000", "\x1e", "\x1f", ".", "%",
                             "-", "。", "，", "Ａ", "１"]),
            st.characters(min_codepoint=0x20, max_codepoint=0x7E),
            st.characters(),
        ),
        max_size=15,
    ),
    max_size=8,
)


@functools.cache
def _reference_tokenizer():
    import jieba

    return jieba.Tokenizer()


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(_JIEBA_PRONE, st.sampled_from(["accurate", "search"]), st.booleans())
def test_batched_jieba_calls_equal_one_call_per_document(docs, mode, hmm):
    clear_segmentation_cache()
    tok = _reference_tokenizer()
    cut = tok.lcut if mode == "accurate" else tok.lcut_for_search
    expected = [cut(d, HMM=hmm) for d in docs]
    got = seg(docs, mode=mode, hmm=hmm, normalize=False, drop_whitespace=False)
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(st.sampled_from(list("研究生命起源我爱北京天安门工信处女干事每月经过下属科室年的了")),
                         st.sampled_from(list("2020abc.%-")), st.characters()), max_size=30))
@pytest.mark.slow
def test_route_tokenizer_finds_jiebas_route(sentence):
    # The segmenter's tokenizer replaces jieba's route search by a faster one; the
    # routes, scores included, must be exactly jieba's.
    from sk_slm.text._jieba_tokenizer import RouteTokenizer

    ref = _reference_tokenizer()
    ref.check_initialized()
    ours = RouteTokenizer()
    ours.FREQ, ours.total, ours.initialized = ref.FREQ, ref.total, True
    dag = ref.get_DAG(sentence)
    expected, got = {}, {}
    ref.calc(sentence, dag, expected)
    ours.calc(sentence, dag, got)
    assert got == expected


@pytest.mark.slow
@pytest.mark.parametrize("hmm", [True, False])
def test_segmenter_tokens_are_jiebas_on_real_reviews(hmm):
    import jieba

    from sk_slm import load_reviews

    docs = list(load_reviews(return_X_y=True)[0][:1500])
    ref = jieba.Tokenizer()
    ref.add_word("好评如潮", 50)
    clear_segmentation_cache()
    got = seg(docs, hmm=hmm, user_dict=[("好评如潮", 50)], normalize=False,
              drop_whitespace=False)
    assert got == [ref.lcut(d, HMM=hmm) for d in docs]


def test_joined_calls_group_documents_by_count_and_length():
    from sk_slm.text.segmenter import _joined_calls

    tok = _reference_tokenizer()
    calls = []

    def cut(s):
        calls.append(s)
        return tok.lcut(s)

    docs = ["我爱北京", "天安门", "", "工信处女干事每月经过下属科室", "好", "年的了", "\x1e分隔", "a b"]
    cut_many = _joined_calls(cut, max_docs=3, max_chars=10)
    assert cut_many(docs) == [tok.lcut(d) for d in docs]
    # Groups close at 3 documents or once 10 characters are reached; the group holding
    # the separator itself is cut one document at a time.
    assert calls == ["我爱北京\x1e天安门\x1e", "工信处女干事每月经过下属科室",
                     "好", "年的了", "\x1e分隔", "a b"]


def test_drop_whitespace_and_punctuation():
    doc = ["你好， 世界！ 😀"]
    assert " " in seg(doc, drop_whitespace=False)[0]
    assert " " not in seg(doc)[0]
    out = seg(doc, drop_punctuation=True)[0]
    assert "," not in out and "!" not in out and "😀" in out


def test_rjieba_backend_matches_jieba_without_hmm():
    pytest.importorskip("rjieba")
    docs = ["我爱北京天安门", "工信处女干事每月经过下属科室", "Python 和 Rust 都很快"]
    assert seg(docs, backend="rjieba", hmm=False) == seg(docs, hmm=False)
    assert "江大桥" in seg(["江大桥在重庆"], backend="rjieba", hmm=False, user_dict=["江大桥"])[0]


def test_rjieba_missing_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "rjieba", None)
    with pytest.raises(ImportError, match="sk-slm\\[fast\\]"):
        seg(["x"], backend="rjieba")


@pytest.mark.parametrize(
    "param, value",
    [("mode", "fast"), ("granularity", "word+"), ("backend", "pkuseg"), ("on_invalid", "skip"),
     ("n_jobs", 0)],
)
def test_bad_parameter_values_are_named(param, value):
    with pytest.raises(ValueError, match=param):
        JiebaSegmenter(**{param: value}).fit(["x"])


def test_hmm_must_be_bool():
    with pytest.raises(ValueError, match="hmm"):
        JiebaSegmenter(hmm="yes").fit(["x"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=5))
def test_tokens_concatenate_to_the_input(docs):
    for granularity in ("word", "char"):
        out = seg(docs, normalize=False, drop_whitespace=False, granularity=granularity)
        assert len(out) == len(docs)
        assert ["".join(t) for t in out] == docs


def test_deterministic_and_cache_returns_independent_copies():
    docs = ["我爱北京天安门"] * 3 + ["今天天气不错"]
    first = seg(docs)
    first[0].append("MUTATED")
    second = seg(docs)
    assert second[0] == ["我", "爱", "北京", "天安门"]
    assert second[1:] == first[1:]


def test_cache_is_bounded_and_clearable():
    clear_segmentation_cache()
    seg([f"文档{i}" for i in range(50)])
    assert len(_SEGMENTATION_CACHE) == 50
    old = _SEGMENTATION_CACHE.maxsize
    try:
        _SEGMENTATION_CACHE.maxsize = 10
        seg([f"另一个{i}" for i in range(30)])
        assert len(_SEGMENTATION_CACHE) == 10
    finally:
        _SEGMENTATION_CACHE.maxsize = old
        clear_segmentation_cache()


def test_pickle_and_clone_round_trip_keep_user_words():
    s = JiebaSegmenter(hmm=False, user_dict=["江大桥"]).fit(["x"])
    before = s.transform(["江大桥在重庆"])
    s2 = pickle.loads(pickle.dumps(s))
    assert s2.transform(["江大桥在重庆"]) == before
    assert clone(s).fit_transform(["江大桥在重庆"]) == before
    r = JiebaSegmenter(backend="rjieba", hmm=False, user_dict=["江大桥"]).fit(["x"])
    pytest.importorskip("rjieba")
    assert pickle.loads(pickle.dumps(r)).transform(["江大桥在重庆"]) == before


def test_transform_without_fit_uses_parameters():
    assert JiebaSegmenter(stop_words=["北京"]).transform(["我爱北京"]) == [["我", "爱"]]


def test_n_jobs_splits_large_inputs_and_preserves_order(monkeypatch):
    import joblib

    import sk_slm.text.segmenter as segmenter

    monkeypatch.setattr(segmenter, "_MIN_DOCS_PER_JOB", 500)
    pools = []

    class SpyParallel(joblib.Parallel):
        def __call__(self, tasks):
            tasks = list(tasks)
            pools.append(len(tasks))
            return super().__call__(tasks)

    monkeypatch.setattr(segmenter, "Parallel", SpyParallel)
    docs = [f"第{i}号文档讲的是北京" for i in range(1200)]
    clear_segmentation_cache()
    expected = seg(docs)
    clear_segmentation_cache()
    parallel = seg(docs, n_jobs=2)
    assert pools == [2] and parallel == expected
    clear_segmentation_cache()
    assert seg(docs[:700], n_jobs=2) == expected[:700]
    assert pools == [2], "under 2 x 500 documents no pool is started"
    clear_segmentation_cache()


def test_segmented_documents_is_deprecated():
    with pytest.warns(FutureWarning, match="SegmentedDocuments is deprecated"):
        out = SegmentedDocuments([["好"]], segmenter=None)
    assert out == [["好"]]


def test_pipeline_with_tfidf_pickles_and_grid_searches(toy_sentiment):
    X, y = toy_sentiment
    pipe = make_pipeline(
        JiebaSegmenter(),
        TfidfVectorizer(analyzer=passthrough_analyzer),
        LinearSVC(),
    )
    pipe.fit(X, y)
    assert (pipe.predict(X) == np.asarray(y)).mean() > 0.95
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict(X), pipe.predict(X))
    grid = GridSearchCV(
        pipe, {"jiebasegmenter__granularity": ["word", "char"], "linearsvc__C": [0.1, 1]},
        cv=3, n_jobs=2,
    )
    grid.fit(X, y)
    assert grid.best_score_ > 0.9


@pytest.mark.slow
def test_read_only_temp_dir_and_fresh_cache_dir(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    cache = tmp_path / "cache"
    code = textwrap.dedent(
        """
        import tempfile, os
        from sk_slm import JiebaSegmenter
        assert not os.access(tempfile.gettempdir(), os.W_OK) or os.geteuid() == 0
        print(JiebaSegmenter().fit_transform(["我爱北京天安门"]))
        """
    )
    env = dict(os.environ, TMPDIR=str(ro), SK_SLM_CACHE_DIR=str(cache))
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "天安门" in res.stdout
    assert "Dump cache file failed" not in res.stderr
    assert list(cache.glob("jieba-*.marshal")), "the dictionary cache is kept in SK_SLM_CACHE_DIR"
    # A cache dir that cannot be created (even by root: its parent is a file) still
    # works, with the dictionary kept in memory.
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    env["SK_SLM_CACHE_DIR"] = str(blocker / "cache")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_a_pipeline_of_segmenter_and_vectorizer_gives_pandas_output():
    from sk_slm import Word2VecVectorizer

    texts = ["我爱北京天安门", "今天天气很好", "北京欢迎你", "天气不好"] * 3
    pipe = make_pipeline(JiebaSegmenter(), Word2VecVectorizer(vector_size=4, min_count=1,
                                                              random_state=0))
    out = pipe.set_output(transform="pandas").fit_transform(texts)
    assert isinstance(out, pd.DataFrame) and out.shape == (12, 4)
    assert isinstance(JiebaSegmenter().set_output(transform="pandas").fit_transform(texts), list)
    with pytest.raises(ValueError, match="transform must be"):
        JiebaSegmenter().set_output(transform="arrow")


def test_a_one_column_dataframe_names_the_text_column_as_feature_names_in_():
    df = pd.DataFrame({"评论": ["很好吃", "太难吃"]})
    seg = JiebaSegmenter().fit(df)
    np.testing.assert_array_equal(seg.feature_names_in_, ["评论"])
    assert seg.transform(["很好吃"]) == [["很", "好吃"]]  # documents without a name: fine
    with pytest.raises(ValueError, match="text column is 'x', but the segmenter was fitted "
                                         "on column '评论'"):
        seg.transform(pd.DataFrame({"x": ["很好吃"]}))
    assert not hasattr(seg.fit(["很好吃"]), "feature_names_in_")  # refitted on a list
    assert seg.fit_transform(df) == [["很", "好吃"], ["太", "难吃"]]
    np.testing.assert_array_equal(seg.feature_names_in_, ["评论"])


def test_as_written_traces_normalised_tokens_back_to_the_users_characters():
    from sk_slm.text.segmenter import as_written

    doc = "OK，好吃！ＡＢＣ  good"
    for granularity in ("char", "word"):
        tokens = JiebaSegmenter(granularity=granularity).fit_transform([doc])[0]
        written = as_written(doc, tokens)
        assert len(written) == len(tokens) and "，" in written and "OK" in written
        assert "ＡＢＣ" in written and "," not in written
    assert as_written(doc, ["ok"], normalize=False) == ["ok"]
    # NFKC composing across characters has no character map: the tokens come back.
    assert as_written("e\u0301", ["é"]) == ["é"]
    assert as_written("好", ["坏"]) == ["坏"]  # a token not in the text: unchanged


def test_segmenting_sets_no_attribute_and_the_settings_keys_go_with_the_cache():
    import gc

    from sk_slm.text.segmenter import _LIVE_SETTINGS

    clear_segmentation_cache()
    gc.collect()
    seg_ = JiebaSegmenter(user_dict=[("天安门广场", 10)]).fit(["x"])
    before = dict(vars(seg_))
    assert seg_.transform(["我爱天安门广场"]) == [["我", "爱", "天安门广场"]]
    assert vars(seg_) == before  # no tokenizer kept on the estimator
    assert len(_LIVE_SETTINGS) >= 1
    clear_segmentation_cache()
    gc.collect()
    assert len(_LIVE_SETTINGS) == 0  # no process-global table that only grows
