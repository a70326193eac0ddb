from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """The suite runs on one torch thread. sk_slm cuts torch's threads to the cores free
    when a fit starts, so on a machine whose load changes two seeded fits could run on
    different thread counts, and the tests that compare fits bit for bit would depend on
    the load (a fine-tuned network's probabilities differ in the 8th digit between one
    thread and two). The choice itself is tested with the counts monkeypatched
    (tests/test_classifier.py)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def shared_data() -> Path:
    """The workspace's real data sets; tests using it skip in a user's clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present (only in the project workspace)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def toy_sentiment():
    """A small, clearly separable Chinese sentiment task made at test time."""
    import random

    rng = random.Random(0)
    pos = ["好吃", "很棒", "满意", "推荐", "喜欢", "新鲜", "实惠", "快"]
    neg = ["难吃", "很差", "失望", "退款", "讨厌", "变质", "太贵", "慢"]
    filler = ["这家", "外卖", "味道", "送餐", "老板", "今天", "我们", "点了", "东西", "服务"]
    X, y = [], []
    for i in range(240):
        label = i % 2
        words = rng.sample(filler, 3) + rng.sample(pos if label else neg, 2)
        rng.shuffle(words)
        X.append("".join(words))
        y.append("正面" if label else "负面")
    return X, y


@pytest.fixture(scope="session")
def tiny_language_model(tmp_path_factory):
    """A small character language model pre-trained for a few seconds on bundled reviews:
    the folder ``LSTMAttentionClassifier(language_model=...)`` reads."""
    from sk_slm import PretrainingSettings, load_reviews, pretrain_language_model

    X, _ = load_reviews(return_X_y=True)
    folder = tmp_path_factory.mktemp("tiny_lm")
    (folder / "reviews.txt").write_text("\n".join(X[:1500]), encoding="utf-8")
    settings = PretrainingSettings(vocab_size=600, embedding_dim=16, hidden_size=16,
                                   row_length=48, batch_size=16, epochs=1, warmup_steps=10)
    pretrain_language_model(folder / "reviews.txt", folder / "model", settings,
                            max_steps=80, log=lambda line: None)
    return folder / "model"


@pytest.fixture(scope="module")
def pipe(toy_sentiment):
    """A small fitted pipeline of the three steps (segmenter, Word2Vec, network)."""
    from sklearn.pipeline import make_pipeline

    from sk_slm import JiebaSegmenter, LSTMAttentionClassifier, Word2VecVectorizer

    X, y = toy_sentiment
    p = make_pipeline(
        JiebaSegmenter(),
        Word2VecVectorizer(output="sequence", vector_size=8, min_count=1, random_state=0),
        LSTMAttentionClassifier(hidden_size=8, module__attention_size=4, max_epochs=4,
                                random_state=0),
    )
    return p.fit(X, y)
