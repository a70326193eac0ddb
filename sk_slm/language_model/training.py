"""The pre-training loop: seeded, checkpointed, resumable exactly, and runnable under
``torchrun`` (DistributedDataParallel)."""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._files import written_whole
from ..network.module import BiLanguageModel
from .corpus import read_corpus, rows
from .model import PretrainedLanguageModel, build_language_model, save_language_model
from .settings import PretrainingSettings

__all__ = ["pretrain_language_model"]

CHECKPOINT = "checkpoint.pt"
_CHECKPOINT_FORMAT = "sk_slm.language_model.checkpoint/1"


class _Loss(nn.Module):
    """The language model's loss on full rows as its forward (what DDP wraps)."""

    def __init__(self, lm: BiLanguageModel):
        super().__init__()
        self.lm = lm

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = torch.full((ids.shape[0],), ids.shape[1], dtype=torch.long)
        return self.lm.loss(self.lm(ids, lengths), ids)


def _learning_rate(settings: PretrainingSettings, step: int, planned: int) -> float:
    """Linear warm-up to ``lr``, then cosine decay to ``lr / 10`` at the planned end."""
    if step < settings.warmup_steps:
        return settings.lr * (step + 1) / settings.warmup_steps
    done = min(1.0, (step - settings.warmup_steps) / max(1, planned - settings.warmup_steps))
    return settings.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done)))


def _row_order(settings: PretrainingSettings, epoch: int, n_rows: int) -> np.ndarray:
    return np.random.default_rng([settings.random_state, epoch]).permutation(n_rows)


def held_out_perplexity(lm: BiLanguageModel, held_out: dict[str, np.ndarray],
                        row_length: int, max_rows: int, device: Any) -> dict[str, float]:
    """exp(mean loss, both directions) over the first ``max_rows`` rows of each file's
    held-out stream."""
    loss_of = _Loss(lm)
    was_training = lm.training
    lm.eval()
    out = {}
    with torch.no_grad():
        for name, stream in held_out.items():
            block = rows(stream, row_length)[:max_rows]
            if not len(block):
                block = stream[None, :]
            if block.shape[1] < 2:
                continue
            losses = [float(loss_of(torch.from_numpy(block[i : i + 64].astype(np.int64)).to(device)))
                      * len(block[i : i + 64]) for i in range(0, len(block), 64)]
            out[name] = round(math.exp(sum(losses) / len(block)), 2)
    lm.train(was_training)
    return out


def _distributed(device: str) -> tuple[int, int, bool]:
    """(rank, world size, whether the process group was started here); under torchrun
    the process group is started here unless the caller started one."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, False
    import torch.distributed as dist

    started = not dist.is_initialized()
    if started:
        dist.init_process_group("nccl" if str(device).startswith("cuda") else "gloo")
    return dist.get_rank(), dist.get_world_size(), started


def _close_process_group(failed: bool) -> None:
    """Close the process group :func:`_distributed` started. After a run that ended
    normally every process first waits for the others (rank 0 writes the model last):
    a process that left while a peer's gloo connection was still open could abort at
    exit ("terminate called without an active exception", 1 run in 12 here)."""
    import torch.distributed as dist

    if not failed:
        dist.barrier()
    dist.destroy_process_group()


def _read_checkpoint(path: Path) -> dict:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds on a damaged file
        raise ValueError(f"{path}: not a readable checkpoint ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}); delete it to "
                         "start again") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != _CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not an sk_slm pre-training checkpoint")
    return ckpt


def pretrain_language_model(
    corpus: Any,
    out: str | os.PathLike,
    settings: PretrainingSettings | None = None,
    *,
    max_steps: int | None = None,
    checkpoint_every: int = 500,
    eval_every: int = 2000,
    eval_rows: int = 200,
    log_every: int = 100,
    device: str = "cpu",
    log: Callable[[str], None] | None = None,
) -> PretrainedLanguageModel:
    """Pre-train the classifier's encoder as a bidirectional character language model.

    The encoder is :class:`~sk_slm.AttentionRNN`'s embedding and one-layer biRNN, read
    exactly as the classifier reads it; the forward direction learns to predict each
    next character, the backward one each previous character, through adaptive-softmax
    heads (:class:`~sk_slm.network.module.BiLanguageModel`). The documents are tokenised as the
    default pipeline tokenises (``JiebaSegmenter(granularity="char")``) and streamed, an
    end-of-document token after each, into rows of ``settings.row_length`` tokens.

    Stop it at any moment (Ctrl-C, SIGTERM, ``max_steps``): a checkpoint is written to
    ``out``, and calling it again with the same corpus and settings resumes it, to the
    same weights an uninterrupted run reaches. ``out`` also holds the model as of the
    last checkpoint (:func:`~sk_slm.load_language_model` reads it).

    Under ``torchrun --nproc-per-node N`` each step's rows are split among the N
    processes (DistributedDataParallel: gloo on CPU, nccl on CUDA); rank 0 writes.

    Parameters
    ----------
    corpus : path or list of paths
        ``.txt``/``.txt.gz`` files of UTF-8 text, one document per line, or folders of
        them. Every ``settings.hold_out_every``-th document of each file is held out.
    out : path
        Folder for ``checkpoint.pt``, ``model.safetensors`` and ``config.json``.
    settings : PretrainingSettings, default=None
        Sizes and training settings (the defaults when None).
    max_steps : int, default=None
        Stop at this step (counted from the run's start) with a checkpoint, before the
        planned end; None: run to ``settings.epochs`` passes.
    checkpoint_every : int, default=500
        Steps between checkpoints.
    eval_every : int, default=2000
        Steps between held-out perplexity measurements (and at the end).
    eval_rows : int, default=200
        Held-out rows per file in each measurement.
    log_every : int, default=100
        Steps between progress lines.
    device : str, default="cpu"
    log : callable, default=None
        Receives each progress line (default: print to standard error; rank 0 only).

    Returns
    -------
    PretrainedLanguageModel
        The model as of the last step run.

    Raises
    ------
    KeyboardInterrupt
        After Ctrl-C or SIGTERM, once the checkpoint is written.
    """
    settings = PretrainingSettings() if settings is None else settings
    if not isinstance(settings, PretrainingSettings):
        raise TypeError(f"settings must be a PretrainingSettings, not {type(settings).__name__}")
    for name, value in (("checkpoint_every", checkpoint_every), ("eval_every", eval_every),
                        ("eval_rows", eval_rows), ("log_every", log_every)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if max_steps is not None and not (isinstance(max_steps, int) and max_steps >= 0):
        raise ValueError(f"max_steps must be a non-negative int or None, got {max_steps!r}")
    rank, world, started = _distributed(device)
    try:
        if settings.batch_size % world:
            raise ValueError(f"batch_size={settings.batch_size} is not divisible by the "
                             f"{world} processes")
        if log is None:
            def log(line):
                print(line, file=sys.stderr, flush=True)
        say = log if rank == 0 else (lambda line: None)

        out = Path(out)
        ckpt_path = out / CHECKPOINT
        ckpt = _read_checkpoint(ckpt_path) if ckpt_path.exists() else None
        if ckpt is not None:
            saved = ckpt["settings"]
            changed = [f.name for f in fields(settings) if saved.get(f.name) != getattr(settings, f.name)]
            if changed:
                name = changed[0]
                raise ValueError(f"{ckpt_path} was written with {name}={saved.get(name)!r}, not "
                                 f"{getattr(settings, name)!r}: resume with the same settings, or "
                                 "use another --out folder")
        t0 = time.perf_counter()
        data = read_corpus(corpus, vocab_size=settings.vocab_size,
                           vocabulary=None if ckpt is None else ckpt["vocabulary"],
                           hold_out_every=settings.hold_out_every)
        if ckpt is not None and ckpt["fingerprint"] != data.fingerprint:
            raise ValueError(f"{ckpt_path} was written for another corpus (other files or sizes): "
                             "resume on the same files, or use another --out folder")
        train_rows = rows(data.train, settings.row_length)
        steps_per_epoch = len(train_rows) // settings.batch_size
        if steps_per_epoch == 0:
            raise ValueError(f"corpus: {len(data.train):,} training tokens make fewer than one batch "
                             f"of {settings.batch_size} rows of {settings.row_length}")
        planned = steps_per_epoch * settings.epochs
        stop_at = planned if max_steps is None else min(max_steps, planned)
        say(f"corpus: {sum(data.n_documents.values()):,} documents, {len(data.train):,} training "
            f"tokens, vocabulary {len(data.vocabulary):,}, read in {time.perf_counter() - t0:.0f} s; "
            f"{planned:,} steps planned ({settings.epochs} epochs of {steps_per_epoch:,})")

        devices = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(settings.random_state)
            lm = build_language_model(settings, len(data.vocabulary)).to(device)
            trained = [p for p in lm.parameters() if p.requires_grad]
            optimizer = torch.optim.Adam(trained, lr=settings.lr, foreach=True)
            torch.manual_seed(settings.random_state + 7919 * (rank + 1))  # dropout, per process
            step, seen, seconds, history = 0, 0, 0.0, []
            if ckpt is not None:
                lm.load_state_dict(ckpt["model"])
                optimizer.load_state_dict(ckpt["optimizer"])
                step, seen, seconds = ckpt["step"], ckpt["tokens_seen"], ckpt["seconds"]
                history = list(ckpt["history"])
                if len(ckpt["rng"]) == world:
                    torch.set_rng_state(ckpt["rng"][rank])
                    cuda_states = ckpt.get("cuda_rng") or []
                    if devices and len(cuda_states) == world and cuda_states[rank] is not None:
                        torch.cuda.set_rng_state(cuda_states[rank], devices[0])
                    say(f"resumed from {ckpt_path} at step {step:,}")
                else:
                    torch.manual_seed(settings.random_state + 7919 * (rank + 1) + step)
                    say(f"resumed from {ckpt_path} at step {step:,}, written by {len(ckpt['rng'])} "
                        f"process(es), now {world}: the dropout masks differ from an "
                        "uninterrupted run")
            loss_of = _Loss(lm)
            if world > 1:
                loss_of = nn.parallel.DistributedDataParallel(loss_of)

            def record() -> dict:
                return {"step": step, "planned_steps": planned, "tokens_seen": seen,
                        "seconds": round(seconds, 1), "finished": step >= planned,
                        "corpus": {"documents": data.n_documents, "characters": data.n_characters,
                                   "training_tokens": int(len(data.train))},
                        "history": history}

            def checkpoint() -> None:
                # Each process's random state: the CPU's, and on CUDA the device's (dropout).
                mine = (torch.get_rng_state(),
                        torch.cuda.get_rng_state(devices[0]) if devices else None)
                states = [mine]
                if world > 1:
                    import torch.distributed as dist

                    states = [None] * world
                    dist.all_gather_object(states, mine)
                if rank:
                    return
                out.mkdir(parents=True, exist_ok=True)
                state = {"format": _CHECKPOINT_FORMAT, "settings": asdict(settings),
                         "fingerprint": data.fingerprint, "vocabulary": data.vocabulary,
                         "step": step, "tokens_seen": seen, "seconds": seconds,
                         "history": history, "rng": [cpu for cpu, _ in states],
                         "cuda_rng": [cuda for _, cuda in states],
                         "model": lm.state_dict(), "optimizer": optimizer.state_dict()}
                with written_whole(ckpt_path) as tmp:
                    torch.save(state, tmp)
                save_language_model(lm, out, data.vocabulary, settings, record())

            def evaluate() -> None:
                if rank == 0:
                    ppl = held_out_perplexity(lm, data.held_out, settings.row_length, eval_rows,
                                              device)
                    history.append({"step": step, "tokens_seen": seen, "perplexity": ppl})
                    say(f"step {step:,}: held-out perplexity " +
                        ", ".join(f"{k} {v:.1f}" for k, v in ppl.items()))

            stop = _StopSignal()
            lm.train()
            tokens_per_step = settings.batch_size * settings.row_length
            window_start, window_steps, window_loss = time.perf_counter(), 0, 0.0
            order, order_epoch = None, -1
            with stop:
                while step < stop_at:
                    epoch, b = divmod(step, steps_per_epoch)
                    if epoch != order_epoch:
                        order, order_epoch = _row_order(settings, epoch, len(train_rows)), epoch
                    picked = order[b * settings.batch_size : (b + 1) * settings.batch_size]
                    ids = torch.from_numpy(train_rows[picked[rank::world]].astype(np.int64)).to(device)
                    for group in optimizer.param_groups:
                        group["lr"] = _learning_rate(settings, step, planned)
                    optimizer.zero_grad(set_to_none=True)
                    loss = loss_of(ids)
                    loss.backward()
                    nn.utils.clip_grad_norm_(trained, settings.clip)
                    optimizer.step()
                    step += 1
                    seen += tokens_per_step
                    window_steps += 1
                    window_loss += float(loss.detach())
                    now = time.perf_counter()
                    if step % log_every == 0 or step == stop_at:
                        seconds += now - window_start
                        rate = window_steps * tokens_per_step / (now - window_start)
                        left = (planned - step) * (now - window_start) / window_steps
                        mean = window_loss / window_steps
                        say(f"step {step:,}/{planned:,} epoch {epoch + 1}: loss {mean:.3f} "
                            f"(perplexity {math.exp(mean):.1f}), {rate:,.0f} tokens/s, "
                            f"{_hms(seconds)} trained, {_hms(left)} left")
                        window_start, window_steps, window_loss = now, 0, 0.0
                    if step % eval_every == 0 or step == planned:
                        evaluate()
                        window_start = time.perf_counter()  # measurement time is not training
                    halt = stop.requested(world)
                    if step % checkpoint_every == 0 or step == stop_at or halt:
                        if window_steps:
                            seconds += time.perf_counter() - window_start
                            window_start = time.perf_counter()
                            window_steps, window_loss = 0, 0.0
                        checkpoint()
                        if halt:
                            say(f"stopped by {stop.name} at step {step:,} of {planned:,}; "
                                f"checkpoint written to {ckpt_path}: run the same command to resume")
                            raise KeyboardInterrupt
            if ckpt is not None and step == ckpt["step"] and step >= stop_at:
                say(f"{ckpt_path} is already at step {step:,} of {planned:,}: nothing to do")
        lm.eval()
        return PretrainedLanguageModel(lm, list(data.vocabulary), settings, record(), out)
    finally:
        if started:
            _close_process_group(failed=sys.exc_info()[0] is not None)


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _StopSignal:
    """Ctrl-C and SIGTERM, while active, only ask the loop to stop after its step (so the
    checkpoint holds a whole step); outside the main thread nothing is installed."""

    def __init__(self):
        self.signum = None
        self._old = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc):
        for s, handler in self._old.items():
            signal.signal(s, handler)
        return False

    def _handle(self, signum, frame):
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else "request"

    def requested(self, world: int) -> bool:
        flag = self.signum is not None
        if world > 1:  # every process stops at the same step
            import torch.distributed as dist

            t = torch.tensor([int(flag)])
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            flag = bool(t.item())
        return flag
