"""The settings that define a pre-training run (and so its checkpoints and model)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

__all__ = ["PretrainingSettings"]


@dataclass(frozen=True)
class PretrainingSettings:
    """What a pre-training run trains and how; a checkpoint resumes only under the same.

    Parameters
    ----------
    vocab_size : int, default=6000
        Token ids in all (PAD and UNK included); rarer characters read as UNK.
    embedding_dim : int, default=128
    hidden_size : int, default=128
        biRNN units per direction (the classifier fine-tuned from it gets the same).
    cell : {"lstm", "gru"}, default="lstm"
    dropout : float, default=0.1
        On the embeddings and on the RNN states before the softmax heads.
    row_length : int, default=128
        Tokens per training row (the stream of documents, cut).
    batch_size : int, default=64
        Rows per step (split among the processes under ``torchrun``).
    epochs : int, default=6
        Passes over the training rows; the learning rate decays to a tenth by the last.
    lr : float, default=0.002
        Adam's peak learning rate, reached after ``warmup_steps``.
    warmup_steps : int, default=500
    clip : float, default=1.0
        Gradient-norm clipping.
    hold_out_every : int, default=200
        Every this-many-th document of each file is held out for perplexity.
    random_state : int, default=0
        Seeds the weights, the row order and the dropout masks.
    """

    vocab_size: int = 6000
    embedding_dim: int = 128
    hidden_size: int = 128
    cell: str = "lstm"
    dropout: float = 0.1
    row_length: int = 128
    batch_size: int = 64
    epochs: int = 6
    lr: float = 0.002
    warmup_steps: int = 500
    clip: float = 1.0
    hold_out_every: int = 200
    random_state: int = 0

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "cell":
                if value not in ("lstm", "gru"):
                    raise ValueError(f"cell must be 'lstm' or 'gru', got {value!r}")
            elif f.name in ("dropout",):
                if not (isinstance(value, (int, float)) and 0 <= value < 1):
                    raise ValueError(f"dropout must be in [0, 1), got {value!r}")
            elif f.name in ("lr", "clip"):
                if not (isinstance(value, (int, float)) and value > 0):
                    raise ValueError(f"{f.name} must be a positive number, got {value!r}")
            elif f.name in ("warmup_steps", "random_state"):
                if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                    raise ValueError(f"{f.name} must be a non-negative int, got {value!r}")
            elif not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise ValueError(f"{f.name} must be a positive int, got {value!r}")
        if self.vocab_size < 4:
            raise ValueError(f"vocab_size must be at least 4, got {self.vocab_size}")
        if self.row_length < 2:
            raise ValueError(f"row_length must be at least 2, got {self.row_length}")

    def to_dict(self) -> dict:
        return asdict(self)
