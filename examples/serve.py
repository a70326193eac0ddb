"""Serve a saved sk_slm pipeline over HTTP, with the standard library only.

    sk-slm train --data my.csv --out model.slm              # or save_model(pipe, "model.slm")
    python examples/serve.py model.slm --port 8000
    curl -s localhost:8000/predict -d '{"texts": ["味道很好，送餐也快", "太慢了，菜都凉了"]}'
    # {"labels": [1, 0], "classes": [0, 1], "proba": [[0.09, 0.91], [0.86, 0.14]]}

    python examples/serve.py --quick   # what the tests run: train a tiny model on 300
                                       # bundled reviews, serve it, query it once, stop

Either file format: one written by ``save_model`` (read by ``load_model``: JSON +
safetensors, PyTorch needed), or one written by ``export_onnx`` (read by
``OnnxClassifier``: ONNX Runtime, no PyTorch needed; ``--quick --onnx`` demonstrates it,
``--quick --onnx --int8`` with the network's weights in int8).
Neither ever unpickles a file. The model is loaded once, at start-up; every request is one batched
``predict_proba`` call, and an empty or whitespace-only text still gets a prediction, so
the answer always has one row per text.

Each connection gets its own thread (``ThreadingHTTPServer``), so a slow or huge request
never holds up the others: reading a body waits at most ``TIMEOUT`` seconds for each
piece of it, a body over ``MAX_BODY`` bytes is refused before it is read, and a bad one
gets a 400 naming what is wrong. The model itself answers one request at a time (a lock):
run several processes behind a load balancer to predict in parallel.
``benchmarks/serve_load.py`` drives it with many concurrent clients, good and bad.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_BODY = 10 * 2**20  # bytes; a larger request is refused rather than read
TIMEOUT = 10  # seconds a connection may stay silent while the server reads from it


def load(path):
    """The model in ``path``: an ``export_onnx`` file, or a ``save_model`` one."""
    with zipfile.ZipFile(path) as zf:
        kind = json.loads(zf.read("manifest.json")).get("format")
    if kind == "sk_slm-onnx":
        from sk_slm import OnnxClassifier  # no PyTorch is imported

        return OnnxClassifier(path)
    from sk_slm import load_model

    return load_model(path)


def predict_json(pipe, body: bytes) -> dict:
    """The answer to a request body ``{"texts": [...]}``; ValueError names what is wrong."""
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None
    texts = request.get("texts") if isinstance(request, dict) else None
    if not isinstance(texts, list):
        raise ValueError('the body must be an object {"texts": [...]}, a list of strings')
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        more = f" ({len(bad)} entries are not strings)" if len(bad) > 1 else ""
        raise ValueError(f"texts[{bad[0]}] is not a string{more}")
    if not texts:
        return {"labels": [], "classes": pipe.classes_.tolist(), "proba": []}
    proba = pipe.predict_proba(texts)
    return {
        "labels": pipe.classes_[proba.argmax(1)].tolist(),
        "classes": pipe.classes_.tolist(),
        "proba": proba.astype(float).round(6).tolist(),
    }


def make_server(pipe, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """An HTTP server answering ``POST /predict`` with ``pipe`` (port 0: any free port)."""
    model_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        timeout = TIMEOUT  # the socket's: a client that stops sending is dropped

        def do_POST(self):  # noqa: N802 (the name http.server calls)
            if self.path != "/predict":
                return self._send(404, {"error": "POST to /predict"})
            length = self.headers.get("Content-Length") or "0"
            if not length.isdigit():  # a negative length would read until the client hangs up
                return self._send(400, {"error": f"bad Content-Length {length!r}"})
            size = int(length)
            if size > MAX_BODY:
                return self._send(413, {"error": f"body over {MAX_BODY} bytes"})
            try:
                body = self.rfile.read(size)
            except TimeoutError:
                self.close_connection = True
                return None  # the client stopped sending: nobody is left to answer
            if len(body) < size:
                return self._send(400, {"error": f"the body ended after {len(body)} of "
                                                 f"{size} bytes"})
            try:
                with model_lock:
                    answer = predict_json(pipe, body)
            except ValueError as exc:
                return self._send(400, {"error": str(exc)})
            self._send(200, answer)

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # one line per request on stderr is noise here
            pass

    return _Server((host, port), Handler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck connection never keeps the process alive
    request_queue_size = 128  # connections waiting to be accepted (the default 5 resets some)


def post(url: str, payload: dict) -> tuple[int, dict]:
    """POST ``payload`` as JSON; the status and the decoded answer (errors included)."""
    req = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def quick_demo(onnx: bool = False, int8: bool = False) -> None:
    """Train a tiny model on 300 bundled reviews, save and load it, serve it, query it."""
    from sklearn.model_selection import train_test_split

    from sk_slm import export_onnx, load_reviews, make_lstm_pipeline, save_model

    X, y = load_reviews(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, train_size=300, stratify=y, random_state=0)
    pipe = make_lstm_pipeline(max_epochs=2, hidden_size=16, verbose=0).fit(X, y)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.slm"
        if onnx:
            export_onnx(pipe, path, quantize="int8" if int8 else None)
        else:
            save_model(pipe, path)
        server = make_server(load(path), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/predict"
    try:
        texts = ["味道很好，送餐也快", "太慢了，菜都凉了", ""]
        status, answer = post(url, {"texts": texts})
        print(status, json.dumps(answer, ensure_ascii=False))
        assert status == 200 and len(answer["labels"]) == len(texts)
        for bad in ({"texts": ["好", 3, None]}, ["好"]):
            status, answer = post(url, bad)
            print(status, json.dumps(answer, ensure_ascii=False))
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?",
                        help="a file written by save_model / sk-slm train, or by export_onnx")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--quick", action="store_true", help=quick_demo.__doc__)
    parser.add_argument("--onnx", action="store_true",
                        help="with --quick: export the model with export_onnx and serve that")
    parser.add_argument("--int8", action="store_true",
                        help="with --quick --onnx: export with quantize='int8'")
    args = parser.parse_args(argv)
    if args.int8 and not args.onnx:
        parser.error("--int8 goes with --onnx")
    if args.quick:
        return quick_demo(onnx=args.onnx, int8=args.int8)
    if args.model is None:
        parser.error("give the model file (or --quick)")
    server = make_server(load(args.model), args.host, args.port)
    print(f"serving {args.model} on http://{args.host}:{server.server_port}/predict", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
