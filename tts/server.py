"""``tts server``: one loaded Synthesizer behind an HTTP API (Starlette on uvicorn).

    GET  /                    the web page (its assets are served from the package, no CDN)
    GET|POST /api/tts         Coqui-compatible: text, speaker_id (or speaker-id), speed → WAV
    POST /v1/audio/speech     OpenAI-compatible: {model, input, voice, speed, response_format,
                              stream}; formats wav, flac, mp3, opus, pcm
    GET  /api/speakers        the speakers and their metadata (also /v1/voices)
    GET  /health              liveness and load; the only endpoint that never needs the key

Every error is JSON ``{"error": "..."}`` with a 4xx code (503 + Retry-After when the queue is
full); an unexpected failure is a JSON 500 whose traceback goes to the server log only.

Security: binds to 127.0.0.1 unless told otherwise; ``api_key`` requires ``Authorization:
Bearer KEY`` on every API endpoint (the web page and its static assets hold no data and are
public; the page asks for the key); request bodies and texts are size-limited; no request
parameter is ever used to open a file (the page's assets are read once, at start-up, from a
fixed list); no CORS headers unless ``cors_origins`` names the origins.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from importlib import resources
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tts.serving import (
    AUDIO_FORMATS,
    ServerBusy,
    StreamEncoder,
    StreamJob,
    SynthesisPool,
    encode_whole,
)
from tts.synthesizer import SynthesisError, Synthesizer

logger = logging.getLogger(__name__)

# The page's assets: URL path → (file in tts/web, media type). Read once at start-up.
WEB_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
PUBLIC_PATHS = frozenset({"/health", *WEB_ASSETS})
MAX_SEED = 2**31 - 1


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 5002
    max_text: int = 4096          # characters of text per request (OpenAI's limit too)
    api_key: str | None = None
    cors_origins: list[str] = field(default_factory=list)
    max_concurrent: int = 8       # streams generating at once (batched by the Synthesizer)
    max_queue: int = 16           # requests waiting for one of those; beyond: 503
    retry_after_s: int = 2

    @property
    def max_body_bytes(self) -> int:
        # Room for the text as JSON-escaped UTF-8 (up to 12 bytes a character) and the rest.
        return 12 * self.max_text + 4096


class RequestError(Exception):
    """A bad request: answered as JSON ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    speaker: str | None
    speed: float = 1.0
    pitch: float = 0.0
    seed: int = 0
    audio_format: str = "wav"
    stream: bool = False


def _error_response(status: int, message: str, headers: dict[str, str] | None = None):
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class _BearerAuth:
    """ASGI middleware: ``Authorization: Bearer KEY`` on everything but PUBLIC_PATHS."""

    def __init__(self, app, api_key: str):
        self.app = app
        self._key = api_key.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self._key):
            message = ("missing API key: send 'Authorization: Bearer KEY'"
                       if b"authorization" not in headers else "wrong API key")
            response = _error_response(401, message, {"WWW-Authenticate": "Bearer"})
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)


class _AudioStreamResponse(StreamingResponse):
    """Streams a job's audio; whatever ends the response (the end, an error, the client
    leaving) closes the job, which stops its generation."""

    def __init__(self, content, job: StreamJob, **kwargs):
        super().__init__(content, **kwargs)
        self._job = job

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except (OSError, ClientDisconnect):
            logger.info("client went away mid-stream")
        finally:
            self._job.close()


def _number(value, name: str, default, kind=float):
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise RequestError(400, f"{name} must be a number, got {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise RequestError(400, f"{name} must be a{'n integer' if kind is int else ' number'}, "
                                f"got {value!r}") from None
    return number


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class TTSServer:
    """The app's request handlers around one Synthesizer."""

    def __init__(self, synth: Synthesizer, config: ServerConfig):
        self.synth = synth
        self.config = config
        self.pool: SynthesisPool | None = None  # made in the event loop, at start-up
        web = resources.files("tts").joinpath("web")
        self._assets = {path: (web.joinpath(name).read_bytes(), media_type)
                        for path, (name, media_type) in WEB_ASSETS.items()}

    # -- the app ------------------------------------------------------------------------
    def app(self) -> Starlette:
        routes = [Route(path, self.asset, methods=["GET"]) for path in WEB_ASSETS]
        routes += [
            Route("/health", self.health, methods=["GET"]),
            Route("/api/speakers", self.speakers, methods=["GET"]),
            Route("/v1/voices", self.voices, methods=["GET"]),
            Route("/api/tts", self.coqui_tts, methods=["GET", "POST"]),
            Route("/v1/audio/speech", self.openai_speech, methods=["POST"]),
        ]
        middleware = []
        if self.config.cors_origins:
            from starlette.middleware.cors import CORSMiddleware

            middleware.append(Middleware(CORSMiddleware, allow_origins=self.config.cors_origins,
                                         allow_methods=["GET", "POST"],
                                         allow_headers=["Authorization", "Content-Type"]))
        if self.config.api_key:
            middleware.append(Middleware(_BearerAuth, api_key=self.config.api_key))
        return Starlette(routes=routes, middleware=middleware, lifespan=self._lifespan,
                         exception_handlers={HTTPException: self._http_error,
                                             Exception: self._internal_error})

    @contextlib.asynccontextmanager
    async def _lifespan(self, app):
        self.pool = SynthesisPool(self.config.max_concurrent, self.config.max_queue)
        try:
            yield
        finally:
            self.pool.shutdown()

    async def _http_error(self, request: Request, exc: HTTPException):
        return _error_response(exc.status_code, f"{exc.detail}: {request.method} "
                                                f"{request.url.path}")

    async def _internal_error(self, request: Request, exc: Exception):
        logger.exception("internal error on %s %s", request.method, request.url.path)
        return _error_response(500, f"internal error ({type(exc).__name__}); see the server log")

    # -- simple endpoints ---------------------------------------------------------------------
    async def asset(self, request: Request):
        content, media_type = self._assets[request.url.path]
        return Response(content, media_type=media_type)

    async def health(self, request: Request):
        pool = self.pool.stats() if self.pool is not None else {}
        return JSONResponse({"status": "ok", "speakers": len(self.synth.speakers), **pool})

    def _speaker_dicts(self) -> list[dict]:
        return [s.to_dict() for s in self.synth.speaker_info]

    async def speakers(self, request: Request):
        return JSONResponse({"speakers": self._speaker_dicts(),
                             "sample_rate": self.synth.sample_rate,
                             "formats": sorted(AUDIO_FORMATS),
                             "max_text": self.config.max_text})

    async def voices(self, request: Request):
        return JSONResponse({"voices": [{"voice_id": s["id"], "name": s["id"], **s}
                                        for s in self._speaker_dicts()]})

    # -- speech endpoints ---------------------------------------------------------------------
    async def coqui_tts(self, request: Request):
        """Coqui's server reads ``text`` and ``speaker-id`` from headers first, then from the
        query or form values (``speaker_id``); it always answers a whole WAV."""
        try:
            values = dict(request.query_params)
            if request.method == "POST":
                values.update(await self._body_values(request))
            headers = request.headers

            def header(name):  # Coqui's page sends UTF-8 text in a header
                raw = headers.get(name)
                return None if raw is None else raw.encode("latin-1").decode("utf-8", "replace")

            text = header("text") or values.get("text", "")
            speaker = (header("speaker-id") or values.get("speaker_id")
                       or values.get("speaker-id") or None)
            speech = SpeechRequest(
                text=text, speaker=speaker,
                speed=_number(values.get("speed"), "speed", 1.0),
                pitch=_number(values.get("pitch"), "pitch", 0.0),
                seed=_number(values.get("seed"), "seed", 0, int),
                audio_format="wav", stream=_flag(values.get("stream", False)))
            return await self._speak(request, speech)
        except RequestError as exc:
            return _error_response(exc.status, exc.message, exc.headers)

    async def openai_speech(self, request: Request):
        try:
            body = await self._read_body(request)
            try:
                data = json.loads(body or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise RequestError(400, "the body must be a JSON object like "
                                        '{"input": "Hello.", "voice": "p225"}') from None
            if not isinstance(data, dict):
                raise RequestError(400, "the body must be a JSON object")
            audio_format = str(data.get("response_format") or "mp3").lower()
            stream_format = data.get("stream_format")
            if stream_format not in (None, "audio"):
                raise RequestError(400, f"stream_format {stream_format!r} is not supported: "
                                        "use \"audio\" (or \"stream\": true)")
            accept = f"{request.headers.get('accept', '')} {request.headers.get('te', '')}"
            speech = SpeechRequest(
                text=data.get("input", ""), speaker=data.get("voice"),
                speed=_number(data.get("speed"), "speed", 1.0),
                pitch=_number(data.get("pitch"), "pitch", 0.0),
                seed=_number(data.get("seed"), "seed", 0, int),
                audio_format=audio_format,
                stream=(_flag(data.get("stream", False)) or stream_format == "audio"
                        or "chunked" in accept.lower()))
            return await self._speak(request, speech)
        except RequestError as exc:
            return _error_response(exc.status, exc.message, exc.headers)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.config.max_body_bytes
        too_big = RequestError(413, f"the request body is over {limit} bytes; send at most "
                                    f"{self.config.max_text} characters of text (--max-text)")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_big
        body = bytearray()
        async for part in request.stream():
            body += part
            if len(body) > limit:
                raise too_big
        return bytes(body)

    async def _body_values(self, request: Request) -> dict:
        body = await self._read_body(request)
        if not body:
            return {}
        content_type = request.headers.get("content-type", "")
        if "json" in content_type:
            try:
                data = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise RequestError(400, "the body is not valid JSON") from None
            if not isinstance(data, dict):
                raise RequestError(400, "the body must be a JSON object")
            return data
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise RequestError(400, "the body is not UTF-8 form data") from None
        return {key: items[-1] for key, items in form.items()}

    def _check(self, speech: SpeechRequest) -> None:
        if not isinstance(speech.text, str):
            raise RequestError(400, f"text must be a string, got {type(speech.text).__name__}")
        if not speech.text.strip():
            raise RequestError(400, "text is empty: give some words to say")
        if len(speech.text) > self.config.max_text:
            raise RequestError(413, f"text is {len(speech.text)} characters; this server "
                                    f"takes at most {self.config.max_text} (--max-text)")
        if not 0 <= speech.seed <= MAX_SEED:
            raise RequestError(400, f"seed must be between 0 and {MAX_SEED}, got {speech.seed}")
        if speech.audio_format not in AUDIO_FORMATS:
            raise RequestError(400, f"unknown response_format {speech.audio_format!r}: use one "
                                    f"of {', '.join(sorted(AUDIO_FORMATS))}")
        try:
            self.synth.speaker_index(speech.speaker)
        except SynthesisError as exc:
            raise RequestError(400, str(exc)) from None

    async def _speak(self, request: Request, speech: SpeechRequest):
        self._check(speech)
        synth = self.synth

        def make_stream():
            return synth.stream(speech.text, speech.speaker, seed=speech.seed,
                                speed=speech.speed, pitch=speech.pitch)

        try:
            job = await self.pool.start(make_stream)
        except ServerBusy as exc:
            raise RequestError(503, str(exc),
                               {"Retry-After": str(self.config.retry_after_s)}) from None
        if await request.is_disconnected():  # it left while waiting in the queue
            job.close()
            return Response(status_code=204)
        try:
            first = await job.next()  # bad arguments surface here, before any byte is sent
        except SynthesisError as exc:
            job.close()
            raise RequestError(400, str(exc)) from None
        except BaseException:
            job.close()
            raise
        audio_format = AUDIO_FORMATS[speech.audio_format]
        headers = {"Cache-Control": "no-store", "X-Sample-Rate": str(synth.sample_rate)}
        if speech.stream and audio_format.streamable:
            encoder = StreamEncoder(audio_format, synth.sample_rate)
            return _AudioStreamResponse(self._stream_body(job, first, encoder), job,
                                        media_type=audio_format.media_type, headers=headers)
        chunks = []
        try:
            chunk = first
            while chunk is not None:
                chunks.append(chunk)
                if await request.is_disconnected():
                    return Response(status_code=204)  # nobody is left to answer
                chunk = await job.next()
        except SynthesisError as exc:
            raise RequestError(400, str(exc)) from None
        finally:
            job.close()
        content = await asyncio.get_running_loop().run_in_executor(
            None, encode_whole, chunks, audio_format, synth.sample_rate)
        return Response(content, media_type=audio_format.media_type, headers=headers)

    @staticmethod
    async def _stream_body(job: StreamJob, first, encoder: StreamEncoder):
        try:
            chunk = first
            while chunk is not None:
                data = encoder.encode(chunk)
                if data:
                    yield data
                chunk = await job.next()
            tail = encoder.finish()
            if tail:
                yield tail
        except SynthesisError as exc:
            # The status line is gone already: end the stream short and say why in the log.
            logger.error("stream ended early: %s", exc)
        finally:
            job.close()


def create_app(synth: Synthesizer, config: ServerConfig | None = None) -> Starlette:
    return TTSServer(synth, config or ServerConfig()).app()


def serve(config: ServerConfig, voice: str | None = None) -> None:
    """Load the voice and serve until interrupted (what ``tts server`` runs)."""
    import uvicorn

    synth = Synthesizer.from_pretrained(voice)
    if config.host not in ("127.0.0.1", "localhost", "::1") and not config.api_key:
        logger.warning("listening on %s without --api-key: anyone who can reach this port "
                       "can use the server", config.host)
    # uvicorn's own lines (where it listens) at the default level; one line per request
    # only when asked for (-v).
    verbose = logging.getLogger().getEffectiveLevel() <= logging.INFO
    uvicorn.run(create_app(synth, config), host=config.host, port=config.port,
                log_level="info", access_log=verbose, timeout_graceful_shutdown=5)


@contextlib.contextmanager
def serve_in_thread(app: Starlette, host: str = "127.0.0.1", port: int = 0):
    """Run ``app`` on uvicorn in a background thread; yields its base URL, stops on exit.

    ``port=0`` takes a free port (the socket is bound here, so no other process can take it
    between choosing and listening)."""
    import socket
    import threading

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="tts-server", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server thread stopped before it started listening")
            threading.Event().wait(0.02)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
