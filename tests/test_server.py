"""`tts server` through a real uvicorn server on a free 127.0.0.1 port: the Coqui and OpenAI
endpoints, every error code, streaming, a client leaving mid-stream, the bounded queue, the
API key and CORS. The tiny voice (conftest.py) keeps it fast; one test runs `tts server`
itself with the bundled voice."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.parse

import numpy as np
import pytest
import soundfile as sf

from tts.server import ServerConfig, TTSServer, serve_in_thread
from tts.serving import pcm16
from tts.synthesizer import Synthesizer

TEXT = "The cat sat down. It was warm."
LONG_TEXT = "The cat sat on the mat and looked at the door. " * 60


@pytest.fixture(scope="module")
def synth(tiny_voice) -> Synthesizer:
    return Synthesizer.from_pretrained(tiny_voice)


@pytest.fixture(scope="module")
def expected_pcm(synth) -> bytes:
    """What the Synthesizer itself says for TEXT by p226 with seed 0."""
    return pcm16(synth.synthesize(TEXT, "p226", seed=0))


class Server:
    def __init__(self, synth, **config):
        self.handlers = TTSServer(synth, ServerConfig(**config))
        self._context = serve_in_thread(self.handlers.app())

    def __enter__(self):
        url = urllib.parse.urlsplit(self._context.__enter__())
        self.host, self.port = url.hostname, url.port
        return self

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)

    @property
    def pool(self):
        return self.handlers.pool

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method: str, path: str, body=None, headers=None):
        """(status, headers, body bytes) of one request on a fresh connection."""
        connection = self.connection()
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
                headers = {"Content-Type": "application/json", **(headers or {})}
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return (response.status, {k.lower(): v for k, v in response.getheaders()},
                    response.read())
        finally:
            connection.close()

    def wait_until_idle(self, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while self.pool.active or self.pool.waiting:
            assert time.monotonic() < deadline, f"streams still running: {self.pool.stats()}"
            time.sleep(0.02)


@pytest.fixture(scope="module")
def server(synth):
    with Server(synth, max_text=4000) as running:
        yield running


@pytest.fixture(scope="module")
def keyed_server(synth):
    with Server(synth, api_key="s3cret") as running:
        yield running


def error_of(body: bytes) -> str:
    data = json.loads(body)
    assert set(data) == {"error"}
    return data["error"]


def test_speakers_and_voices_list_every_speaker_with_metadata(server, synth):
    status, headers, body = server.request("GET", "/api/speakers")
    assert status == 200 and headers["content-type"] == "application/json"
    data = json.loads(body)
    assert data["speakers"] == [s.to_dict() for s in synth.speaker_info]
    assert data["sample_rate"] == 16000
    assert set(data["formats"]) == {"wav", "flac", "mp3", "opus", "pcm"}
    status, _, body = server.request("GET", "/v1/voices")
    assert status == 200
    assert [v["voice_id"] for v in json.loads(body)["voices"]] == ["p225", "p226"]
    status, _, body = server.request("GET", "/health")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_coqui_get_and_post_give_the_synthesizers_own_audio_as_wav(server, expected_pcm):
    query = urllib.parse.urlencode({"text": TEXT, "speaker_id": "p226"})
    status, headers, body = server.request("GET", f"/api/tts?{query}")
    assert status == 200 and headers["content-type"] == "audio/wav"
    with sf.SoundFile(io.BytesIO(body)) as sound:
        assert (sound.samplerate, sound.channels, sound.subtype) == (16000, 1, "PCM_16")
        assert sound.frames == len(expected_pcm) // 2
    assert body[44:] == expected_pcm
    # Coqui's own page sends the text and speaker in headers; other clients post a form.
    status, _, by_header = server.request("POST", "/api/tts",
                                          headers={"text": TEXT, "speaker-id": "p226"})
    assert status == 200 and by_header == body
    form = urllib.parse.urlencode({"text": TEXT, "speaker-id": "p226"})
    status, _, by_form = server.request(
        "POST", "/api/tts", body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and by_form == body
    # speed is honoured: faster speech is shorter
    query = urllib.parse.urlencode({"text": TEXT, "speaker_id": "p226", "speed": 2})
    status, _, fast = server.request("GET", f"/api/tts?{query}")
    assert status == 200 and len(fast) < 0.8 * len(body)


@pytest.mark.parametrize("audio_format", ["wav", "flac", "pcm", "mp3", "opus"])
@pytest.mark.parametrize("stream", [False, True])
def test_openai_speech_in_every_format_streamed_or_not(server, expected_pcm, audio_format,
                                                       stream):
    status, headers, body = server.request(
        "POST", "/v1/audio/speech",
        {"model": "tts-1", "input": TEXT, "voice": "p226", "response_format": audio_format,
         "stream": stream})
    assert status == 200, body
    expected = np.frombuffer(expected_pcm, "<i2")
    if stream and audio_format in ("wav", "pcm", "opus"):
        assert headers.get("transfer-encoding") == "chunked"
    if audio_format == "pcm":
        assert headers["content-type"] == "audio/pcm"
        assert body == expected_pcm
        return
    if audio_format == "wav" and stream:
        # a streamed WAV says "unknown length" (0xFFFFFFFF), like Piper's and OpenAI's
        assert struct.unpack("<I", body[4:8])[0] == 0xFFFFFFFF
        assert struct.unpack("<I", body[40:44])[0] == 0xFFFFFFFF
    decoded, rate = sf.read(io.BytesIO(body), dtype="int16")
    assert rate == 16000
    if audio_format in ("wav", "flac"):  # lossless: the very same samples
        assert np.array_equal(decoded, expected)
    else:  # lossy: the same length within codec padding, and clearly not silence
        assert abs(len(decoded) - len(expected)) < 0.05 * 16000
        assert np.abs(decoded).max() > 0.3 * np.abs(expected).max()


def test_streaming_sends_audio_before_the_whole_text_is_spoken(server):
    server.wait_until_idle()  # earlier tests' workers may still be finishing
    connection = server.connection()
    try:
        connection.request("POST", "/v1/audio/speech", body=json.dumps(
            {"input": LONG_TEXT, "voice": "p225", "response_format": "pcm", "stream": True}),
            headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200
        first = response.read1(65536)
        assert first, "no audio came"
        # the stream is still running while the client holds its first bytes
        assert server.pool.active == 1
        rest = response.read()
        assert len(first) + len(rest) > 10 * len(first)
    finally:
        connection.close()
    server.wait_until_idle()


@pytest.mark.parametrize("path", ["/v1/audio/speech", "/api/tts"])
def test_unknown_speaker_is_400_listing_the_valid_ids(server, path):
    status, _, body = server.request("POST", path, {"input": TEXT, "text": TEXT,
                                                    "voice": "alloy", "speaker_id": "alloy"})
    assert status == 400
    message = error_of(body)
    assert "alloy" in message and "p225" in message and "p226" in message


@pytest.mark.parametrize("payload, status, words", [
    ({"input": "", "voice": "p225"}, 400, "empty"),
    ({"input": "   ", "voice": "p225"}, 400, "empty"),
    ({"input": "x" * 4001, "voice": "p225"}, 413, "4000"),
    ({"input": TEXT, "voice": "p225", "response_format": "aac"}, 400, "aac"),
    ({"input": TEXT, "voice": "p225", "speed": "fast"}, 400, "speed"),
    ({"input": TEXT, "voice": "p225", "speed": 10}, 400, "speed"),
    ({"input": TEXT, "voice": "p225", "pitch": 99}, 400, "pitch"),
    ({"input": 42, "voice": "p225"}, 400, "string"),
    ({"input": TEXT, "voice": "p225", "seed": 10**30}, 400, "seed"),
    ({"input": TEXT, "voice": "p225", "seed": "x"}, 400, "seed"),
    ({"input": TEXT, "voice": "p225", "stream_format": "sse"}, 400, "sse"),
    (["not", "an", "object"], 400, "object"),
])
def test_bad_requests_get_a_json_error_with_the_right_code(server, payload, status, words):
    got, headers, body = server.request("POST", "/v1/audio/speech", payload)
    assert got == status
    assert headers["content-type"] == "application/json"
    assert words in error_of(body)


def test_bodies_over_the_limit_and_broken_json_are_refused(server):
    status, _, body = server.request("POST", "/v1/audio/speech", body="{" + " " * 60000,
                                     headers={"Content-Type": "application/json"})
    assert status == 413 and "body" in error_of(body)
    status, _, body = server.request("POST", "/v1/audio/speech", body="{not json",
                                     headers={"Content-Type": "application/json"})
    assert status == 400 and "JSON" in error_of(body)
    status, _, body = server.request("GET", "/api/tts?text=")
    assert status == 400 and "empty" in error_of(body)


def test_unknown_paths_and_methods_are_json_errors_and_no_path_reaches_a_file(server):
    for path in ("/nothing", "/static/../server.py", "/static/%2e%2e/server.py",
                 "/static/index.html/../../voice.py"):
        status, _, body = server.request("GET", path)
        assert status == 404, path
        assert "Not Found" in error_of(body)
    status, _, body = server.request("GET", "/v1/audio/speech")
    assert status == 405 and error_of(body)


def test_web_assets_are_served_by_the_package(server):
    status, headers, page = server.request("GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"/static/app.js" in page and b"http" not in page.split(b"<body")[1]
    for path, kind in (("/static/app.js", "text/javascript"), ("/static/style.css", "text/css")):
        status, headers, _ = server.request("GET", path)
        assert status == 200 and headers["content-type"].startswith(kind)


def test_api_key_is_required_everywhere_but_health_and_the_page(keyed_server):
    speech = {"input": "Hi.", "voice": "p225", "response_format": "pcm"}
    for method, path, body in (("GET", "/api/speakers", None), ("GET", "/v1/voices", None),
                               ("POST", "/v1/audio/speech", speech),
                               ("GET", "/api/tts?text=Hi.", None)):
        status, headers, reply = keyed_server.request(method, path, body)
        assert status == 401 and "API key" in error_of(reply), path
        assert headers["www-authenticate"] == "Bearer"
        status, _, reply = keyed_server.request(method, path, body,
                                                {"Authorization": "Bearer wrong"})
        assert status == 401 and "wrong" in error_of(reply), path
        status, _, _ = keyed_server.request(method, path, body,
                                            {"Authorization": "Bearer s3cret"})
        assert status == 200, path
    assert keyed_server.request("GET", "/health")[0] == 200
    assert keyed_server.request("GET", "/")[0] == 200


def test_no_cors_headers_unless_an_origin_is_given(server, synth):
    origin = {"Origin": "http://example.test"}
    _, headers, _ = server.request("GET", "/api/speakers", headers=origin)
    assert "access-control-allow-origin" not in headers
    with Server(synth, cors_origins=["http://example.test"]) as cors_server:
        _, headers, _ = cors_server.request("GET", "/api/speakers", headers=origin)
        assert headers["access-control-allow-origin"] == "http://example.test"
        _, headers, _ = cors_server.request("GET", "/api/speakers",
                                            headers={"Origin": "http://other.test"})
        assert "access-control-allow-origin" not in headers


def test_a_client_leaving_mid_stream_stops_its_generation(server, expected_pcm):
    server.wait_until_idle()
    before = dict(server.pool.stats())
    connection = server.connection()
    connection.request("POST", "/v1/audio/speech", body=json.dumps(
        {"input": LONG_TEXT, "voice": "p225", "response_format": "pcm", "stream": True}),
        headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200 and response.read1(1024)
    connection.sock.shutdown(socket.SHUT_RDWR)
    connection.close()
    server.wait_until_idle()
    after = server.pool.stats()
    # the stream was stopped, not run to its end (it could not: at most a few chunks ahead)
    assert after["stopped"] == before["stopped"] + 1
    assert after["completed"] == before["completed"]
    status, _, body = server.request("POST", "/v1/audio/speech", {
        "input": TEXT, "voice": "p226", "response_format": "pcm", "stream": True})
    assert status == 200 and body == expected_pcm


def test_a_full_queue_answers_503_with_retry_after(synth):
    with Server(synth, max_concurrent=1, max_queue=0, max_text=4000) as busy:
        holder = busy.connection()
        try:
            holder.request("POST", "/v1/audio/speech", body=json.dumps(
                {"input": LONG_TEXT, "voice": "p225", "response_format": "pcm",
                 "stream": True}), headers={"Content-Type": "application/json"})
            response = holder.getresponse()
            assert response.status == 200 and response.read1(1024)
            status, headers, body = busy.request("POST", "/v1/audio/speech",
                                                 {"input": TEXT, "voice": "p225"})
            assert status == 503 and headers["retry-after"] == "2"
            assert "busy" in error_of(body)
        finally:
            holder.close()
        busy.wait_until_idle()
        status, _, _ = busy.request("POST", "/v1/audio/speech",
                                    {"input": "Hi.", "voice": "p225", "response_format": "pcm"})
        assert status == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_tts_server_command_serves_the_bundled_voice():
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "tts", "server", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "tts server did not start in 120 s"
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.25)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.request("GET", "/api/speakers")
        speakers = json.loads(connection.getresponse().read())["speakers"]
        assert [s["id"] for s in speakers][:2] == ["p225", "p226"] and len(speakers) == 10
        connection.request("POST", "/v1/audio/speech", body=json.dumps(
            {"input": "Hello there.", "voice": "p227", "response_format": "wav"}),
            headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200
        audio, rate = sf.read(io.BytesIO(response.read()))
        assert rate == 16000 and 0.4 < len(audio) / rate < 3.0
        assert np.sqrt(np.mean(audio ** 2)) > 0.01  # speech, not silence
    finally:
        process.terminate()
        process.wait(timeout=30)
