"""Load on `tts server`: N concurrent clients against the streaming OpenAI endpoint.

    python benchmarks/server_load.py --clients 8 --seconds 60 [--voice DIR] [--url URL] [--mix]

Starts `tts server` on a free 127.0.0.1 port (unless --url names a running one), sends one
warm-up request, then each client posts one-sentence requests (``"stream": true``, 16-bit
PCM) back to back for --seconds. Prints the time to the first audio byte (p50, p95), the
seconds of audio delivered per wall-clock second over all clients, and the errors; the last
line is ``ttfb_p95_s X``.

``--mix``: every third request of a client is instead a malformed one (unknown speaker, empty
text, text over the limit, bad format, broken JSON: each must get its own 4xx code and a JSON
error) or a client that reads the first audio bytes and leaves. Any other answer, a 5xx, or a
server that is not idle and healthy at the end counts as an error.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import numpy as np

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call me back when you get this message.",
    "It will be sunny tomorrow with a light breeze.",
    "The meeting has been moved to three o'clock.",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(voice: str | None, clients: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "tts", "server", "--port", str(port),
               "--max-concurrent", str(max(clients, 1)), "--max-queue", str(4 * clients)]
    if voice:
        command += ["--voice", voice]
    process = subprocess.Popen(command)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"tts server exited with status {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return process, url
        except OSError:
            time.sleep(0.25)
    process.terminate()
    raise SystemExit("tts server did not start within 180 s")


def speak(url: str, text: str, voice: str, sample_rate: int) -> tuple[float, float, float]:
    """One streamed request → (time to first audio byte, total time, seconds of audio)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        started = time.perf_counter()
        connection.request("POST", "/v1/audio/speech", body=json.dumps(
            {"input": text, "voice": voice, "response_format": "pcm", "stream": True}),
            headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {response.read()[:200]!r}")
        first = response.read1(65536)
        if not first:
            raise RuntimeError("empty response")
        ttfb = time.perf_counter() - started
        total = len(first) + len(response.read())
        return ttfb, time.perf_counter() - started, total / 2 / sample_rate
    finally:
        connection.close()


MALFORMED = [  # (body, expected status)
    ({"input": "Hello.", "voice": "nobody", "response_format": "pcm"}, 400),
    ({"input": "  ", "voice": None, "response_format": "pcm"}, 400),
    ({"input": "x" * 5000, "voice": None, "response_format": "pcm"}, 413),
    ({"input": "Hello.", "voice": None, "response_format": "aac"}, 400),
    ("{not json", 400),
]


def malformed(url: str, number: int) -> None:
    """One bad request; raises unless it gets its own 4xx code and a JSON error."""
    body, expected = MALFORMED[number % len(MALFORMED)]
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("POST", "/v1/audio/speech",
                           body=body if isinstance(body, str) else json.dumps(body),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        reply = response.read()
        if response.status != expected or "error" not in json.loads(reply):
            raise RuntimeError(f"malformed request #{number % len(MALFORMED)}: HTTP "
                               f"{response.status} (expected {expected}): {reply[:200]!r}")
    finally:
        connection.close()


def leave_mid_stream(url: str, text: str, voice: str) -> None:
    """Read the first audio bytes of a stream, then drop the connection."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request("POST", "/v1/audio/speech", body=json.dumps(
            {"input": text, "voice": voice, "response_format": "pcm", "stream": True}),
            headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        if response.status != 200 or not response.read1(1024):
            raise RuntimeError(f"HTTP {response.status} before leaving")
        connection.sock.shutdown(socket.SHUT_RDWR)
    finally:
        connection.close()


def server_state(url: str, seconds: float = 60.0) -> dict:
    """/health once no stream is running any more (or after ``seconds``)."""
    parts = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + seconds
    while True:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("GET", "/health")
        state = json.loads(connection.getresponse().read())
        connection.close()
        if (state.get("active", 0) == 0 and state.get("waiting", 0) == 0) or \
                time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--voice", default=None, help="voice directory (default: bundled)")
    parser.add_argument("--url", default=None, help="a running server instead of starting one")
    parser.add_argument("--mix", action="store_true",
                        help="also malformed requests and clients leaving mid-stream")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients must be >= 1 and --seconds > 0")

    process = None
    url = args.url
    if url is None:
        process, url = start_server(args.voice, args.clients)
    try:
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("GET", "/api/speakers")
        info = json.loads(connection.getresponse().read())
        speakers = [s["id"] for s in info["speakers"]]
        sample_rate = int(info["sample_rate"])
        speak(url, SENTENCES[0], speakers[0], sample_rate)  # warm-up: compile, caches

        results: list[tuple[float, float, float]] = []
        errors: list[str] = []
        others: list[int] = []  # --mix: malformed requests and early leavers, answered right
        lock = threading.Lock()
        deadline = time.perf_counter() + args.seconds

        def client(number: int) -> None:
            request = 0
            while time.perf_counter() < deadline:
                text = SENTENCES[(number + request) % len(SENTENCES)]
                speaker = speakers[(number + request) % len(speakers)]
                request += 1
                try:
                    if args.mix and request % 3 == 0:
                        if request % 2:
                            malformed(url, number + request)
                        else:
                            leave_mid_stream(url, " ".join(SENTENCES), speaker)
                        with lock:
                            others.append(request)
                        continue
                    result = speak(url, text, speaker, sample_rate)
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    results.append(result)

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        state = server_state(url)
        if state.get("status") != "ok" or state.get("active") or state.get("waiting"):
            errors.append(f"server not idle and healthy at the end: {state}")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)

    if not results:
        raise SystemExit(f"no request succeeded; errors: {errors[:3]}")
    ttfb = np.array([r[0] for r in results])
    audio_seconds = sum(r[2] for r in results)
    print(f"clients {args.clients}, {wall:.1f} s, {len(results)} requests, "
          f"{len(errors)} errors{': ' + errors[0] if errors else ''}")
    if args.mix:
        print(f"mixed in: {len(others)} malformed requests and clients leaving mid-stream, "
              f"all answered as expected unless counted in the errors; server at the end: "
              f"{state}")
    print(f"time to first audio byte: p50 {np.percentile(ttfb, 50):.3f} s, "
          f"p95 {np.percentile(ttfb, 95):.3f} s, max {ttfb.max():.3f} s")
    print(f"request time: p50 {np.percentile([r[1] for r in results], 50):.3f} s; "
          f"audio per request {audio_seconds / len(results):.2f} s")
    print(f"audio_seconds_per_wall_second {audio_seconds / wall:.3f}")
    print(f"errors {len(errors)}")
    print(f"ttfb_p95_s {np.percentile(ttfb, 95):.3f}")


if __name__ == "__main__":
    main()
