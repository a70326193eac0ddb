"""Load test of examples/serve.py on loopback: many concurrent clients, good and bad.

Usage: python -m benchmarks.serve_load [--model=FILE.slm] [--requests=2000] [--clients=32]
       [--variant=TAG]

Without ``--model`` it trains the default pipeline (``make_lstm_pipeline``, 10 epochs at
most) on 2,000 bundled reviews and saves it. The service runs in its own process
(``python examples/serve.py MODEL --port 0``); ``--clients`` threads send ``--requests``
requests between them, drawn at random (seed 0) from these kinds:

====================  =====  ==========================================================
kind                  share  what it sends, and the answer it must get
====================  =====  ==========================================================
good                  70%    1-20 real reviews (some empty): 200, one row per text
not JSON              6%     a body that is not JSON: 400
not strings           6%     ``{"texts": ["好", 3, null]}``: 400 naming texts[1]
wrong path            4%     POST /other: 404
huge                  4%     a Content-Length of 20 MB, nothing sent: 413, body not read
short body            4%     a Content-Length of 1,000 and 10 bytes, then the write side
                             closed: 400 (the body ended early)
slow client           6%     a good body sent 8 bytes every 50 ms: 200
====================  =====  ==========================================================

Besides, 4 connections send half a request and then stay silent for the whole run
(slowloris); the server must drop them after its timeout and keep answering. Prints and
writes ``results/serve_load/``: requests/s, latency p50/p99 of the good requests, the
count of every (kind, status), and the checks: no good request failed, no bad one got a
200, the process is still alive and answers at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks._common import header, write_result

HERE = Path(__file__).resolve().parents[1]
KINDS = [("good", 70), ("not JSON", 6), ("not strings", 6), ("wrong path", 4), ("huge", 4),
         ("short body", 4), ("slow client", 6)]
EXPECTED = {"good": 200, "not JSON": 400, "not strings": 400, "wrong path": 404,
            "huge": 413, "short body": 400, "slow client": 200}


def _model(path: str | None, tmp: str) -> str:
    if path:
        return path
    from sklearn.model_selection import train_test_split

    from sk_slm import load_reviews, make_lstm_pipeline, save_model

    X, y = load_reviews(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, train_size=2000, stratify=y, random_state=0)
    out = str(Path(tmp) / "model.slm")
    save_model(make_lstm_pipeline(max_epochs=10).fit(X, y), out)
    return out


def _start(model: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, str(HERE / "examples" / "serve.py"), model,
                             "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # "serving MODEL on http://127.0.0.1:PORT/predict"
    port = int(line.rsplit(":", 1)[1].split("/")[0])
    return proc, port


def _raw(port: int, head: bytes, body: bytes, trickle: float = 0.0,
         close_write: bool = False) -> int:
    """Send a request byte-exactly; return the status (0: no answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        if trickle:
            for i in range(0, len(body), 8):
                sock.sendall(body[i:i + 8])
                time.sleep(trickle)
        else:
            sock.sendall(body)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        data = sock.recv(65536)
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0


def _head(path: str, length: int) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode()


def _request(port: int, kind: str, texts: list[str]) -> tuple[str, int, float, bool]:
    """(kind, status, seconds, answer well formed) of one request."""
    start = time.perf_counter()
    ok = True
    body = json.dumps({"texts": texts}, ensure_ascii=False).encode()
    if kind in ("good", "not JSON", "not strings", "wrong path"):
        if kind == "not JSON":
            body = b'{"texts": ["unterminated'
        elif kind == "not strings":
            body = json.dumps({"texts": ["好", 3, None]}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/other" if kind == "wrong path" else "/predict", body,
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        status, answer = resp.status, json.loads(resp.read())
        conn.close()
        if kind == "good":
            ok = (status == 200 and len(answer["labels"]) == len(texts)
                  and len(answer["proba"]) == len(texts))
        elif kind == "not strings":
            ok = "texts[1]" in answer.get("error", "")
    elif kind == "huge":
        status = _raw(port, _head("/predict", 20 * 2**20), b"")
    elif kind == "short body":
        status = _raw(port, _head("/predict", 1000), b'{"texts": [', close_write=True)
    else:  # slow client
        status = _raw(port, _head("/predict", len(body)), body, trickle=0.05)
    return kind, status, time.perf_counter() - start, ok


def _slowloris(port: int, stop: threading.Event, dropped: list) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(_head("/predict", 100) + b'{"texts"')
    sock.settimeout(1.0)
    while not stop.is_set():
        try:
            if sock.recv(1) == b"":  # the server closed it
                dropped.append(True)
                break
        except TimeoutError:
            continue
        except OSError:
            dropped.append(True)
            break
    sock.close()


def main(model: str | None, n_requests: int, n_clients: int, variant: str) -> None:
    from sk_slm import load_reviews

    reviews = load_reviews(return_X_y=True)[0][:5000] + ["", "   "]
    rng = random.Random(0)
    plan = [(rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0],
             rng.sample(reviews, rng.randint(1, 20))) for _ in range(n_requests)]
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = _start(_model(model, tmp))
        stop, dropped = threading.Event(), []
        loris = [threading.Thread(target=_slowloris, args=(port, stop, dropped), daemon=True)
                 for _ in range(4)]
        for t in loris:
            t.start()
        start = time.perf_counter()
        crashes = Counter()
        results = []
        with ThreadPoolExecutor(n_clients) as pool:
            futures = [pool.submit(_request, port, kind, texts) for kind, texts in plan]
            for (kind, _), future in zip(plan, futures, strict=True):
                try:
                    results.append(future.result())
                except Exception as exc:  # the client saw no answer at all
                    crashes[(kind, type(exc).__name__)] += 1
        wall = time.perf_counter() - start
        final = _request(port, "good", ["最后一个请求，还在吗"])
        stop.set()
        alive = proc.poll() is None
        proc.terminate()
        proc.wait(timeout=30)
    counts = Counter((kind, status) for kind, status, _, _ in results)
    good = [seconds for kind, status, seconds, ok in results if kind == "good" and ok]
    failed_good = sum(1 for kind, _, _, ok in results if kind == "good" and not ok)
    wrong = sum(1 for kind, status, _, ok in results
                if status != EXPECTED[kind] or not ok)
    bad_200 = sum(1 for kind, status, _, _ in results
                  if EXPECTED[kind] != 200 and status == 200)
    quantiles = statistics.quantiles(good, n=100) if len(good) > 1 else [float("nan")] * 99
    lines = [header("examples/serve.py under load (loopback)"),
             f"{n_requests:,} requests from {n_clients} concurrent clients in {wall:.1f} s: "
             f"**{n_requests / wall:.0f} requests/s** (good ones: {len(good) / wall:.0f}/s); "
             f"good requests p50 **{1000 * quantiles[49]:.0f} ms**, p99 "
             f"**{1000 * quantiles[98]:.0f} ms**; 4 silent half-requests held open, "
             f"{len(dropped)} dropped by the server's timeout.\n",
             "| kind | status | count | expected |", "|---|---|---|---|"]
    lines += [f"| {kind} | {status} | {n:,} | {EXPECTED[kind]} |"
              for (kind, status), n in sorted(counts.items())]
    lines += [f"| {kind} | no answer ({name}) | {n:,} | {EXPECTED[kind]} |"
              for (kind, name), n in sorted(crashes.items())]
    lines += ["",
              f"- good requests that failed: **{failed_good}**; requests answered other than "
              f"expected: **{wrong}**; bad requests answered 200: **{bad_200}**; requests "
              f"with no answer: **{sum(crashes.values())}**",
              f"- the process alive at the end: **{alive}**; a last good request: status "
              f"{final[1]}"]
    print("\n".join(lines), flush=True)
    write_result("serve_load", "\n".join(lines) + "\n", variant)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a .slm file (default: fit a quick one)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--variant", default="", help="a tag for the result file name")
    args = parser.parse_args()
    main(args.model, args.requests, args.clients, args.variant)
