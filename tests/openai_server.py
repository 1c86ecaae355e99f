"""A scripted OpenAI-compatible HTTP server for tests and demos (stdlib only, no pytest).

    with ScriptedOpenAIServer([{"tool": "bash", "args": {"command": "ls"}},
                               {"status": 500},
                               {"content": "done"}]) as server:
        server.base_url   # http://127.0.0.1:PORT/v1
        server.requests   # every POST body received, parsed, in order

Each POST /v1/chat/completions consumes the next scripted item:
  {"content": "text"}                           a plain answer
  {"tool": NAME, "args": {...}}                 a tool call (may carry "content" too; "arguments":
                                                a raw string instead of args, sent verbatim)
  {"tool_calls": [{"tool": N, "args": {}}...]}  several tool calls in one answer
  {"status": 500, "body": {...}, "headers": {}} an HTTP error, consumed like any other item
Optional on answers: "usage": {"prompt_tokens": P, "completion_tokens": C}, "finish_reason";
on any item: "delay": seconds to wait before answering. Faults: {"garbage": TEXT} answers 200 with
TEXT as a body that claims to be JSON; "cut_after": N on a streamed answer drops the connection
after N chunks, without [DONE].
Streaming requests get SSE chunks shaped like OpenAI's (tool-call arguments split across
deltas, a usage chunk when stream_options.include_usage). Checks that do not consume an item:
require_key (401 on another bearer token), models (404 for other names), reject_tools (400 when
the request has tools). GET /v1/models lists the models.

Run by hand: python tests/openai_server.py SCRIPT.json [--port N] (prints its base URL)."""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EXHAUSTED = "ScriptedOpenAIServer: the script ran out"


def _error(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


class ScriptedOpenAIServer:
    def __init__(self, script: list[dict[str, Any]], *, require_key: str | None = None,
                 models: list[str] | None = None, reject_tools: bool = False,
                 host: str = "127.0.0.1", port: int = 0, chunk_size: int = 4,
                 chunk_delay: float = 0.0):
        self.script = list(script)
        self.require_key = require_key
        self.models = models
        self.reject_tools = reject_tools
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay
        self.requests: list[dict[str, Any]] = []  # POST bodies, parsed
        self.headers: list[dict[str, str]] = []  # their headers (names lowercased), same order
        self.served = 0  # scripted items consumed
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "ScriptedOpenAIServer":
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "ScriptedOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def next_item(self) -> dict[str, Any] | None:
        with self._lock:
            if not self.script:
                return None
            self.served += 1
            return self.script.pop(0)

    # -- answers ---------------------------------------------------------------------------

    def _tool_calls(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        calls = item.get("tool_calls") or ([item] if "tool" in item else [])
        return [{"id": c.get("id") or "call_" + uuid.uuid4().hex[:24], "type": "function",
                 "function": {"name": c["tool"],
                              "arguments": c.get("arguments") or json.dumps(c.get("args", {}))}}
                for c in calls]

    def _usage(self, item: dict[str, Any], body: dict[str, Any], completion: str) -> dict:
        usage = dict(item.get("usage") or {})
        usage.setdefault("prompt_tokens", 1 + len(json.dumps(body.get("messages", []))) // 4)
        usage.setdefault("completion_tokens", 1 + len(completion) // 4)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return usage

    def completion(self, item: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        content = item.get("content")
        calls = self._tool_calls(item)
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if calls:
            message["tool_calls"] = calls
        finish = item.get("finish_reason") or ("tool_calls" if calls else "stop")
        spent = (content or "") + "".join(c["function"]["arguments"] for c in calls)
        return {
            "id": "chatcmpl-" + uuid.uuid4().hex[:24], "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model", "scripted"),
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": self._usage(item, body, spent),
        }

    def chunks(self, item: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
        full = self.completion(item, body)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {k: full[k] for k in ("id", "created", "model", "system_fingerprint")}
        base["object"] = "chat.completion.chunk"

        def chunk(delta: dict, finish: str | None = None) -> dict:
            out = dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None,
                                       "finish_reason": finish}])
            if include_usage:
                out["usage"] = None
            return out

        message = full["choices"][0]["message"]
        out = [chunk({"role": "assistant", "content": "", "refusal": None})]
        for piece in _pieces(message["content"] or "", self.chunk_size):
            if piece:
                out.append(chunk({"content": piece}))
        for index, call in enumerate(message.get("tool_calls") or []):
            out.append(chunk({"tool_calls": [{
                "index": index, "id": call["id"], "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""}}]}))
            for piece in _pieces(call["function"]["arguments"], self.chunk_size):
                delta = {"index": index, "function": {"arguments": piece}}
                out.append(chunk({"tool_calls": [delta]}))
        out.append(chunk({}, full["choices"][0]["finish_reason"]))
        if include_usage:
            out.append(dict(base, choices=[], usage=full["usage"]))
        return out

    # -- HTTP ------------------------------------------------------------------------------

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            # each SSE chunk is a small write: without TCP_NODELAY, Nagle and delayed ACKs
            # hold every chunk back ~20-40 ms, which real servers do not do
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def send_json(self, status: int, payload: Any, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, str(value))
                self.end_headers()
                self.wfile.write(data)

            def authorized(self) -> bool:
                if server.require_key is None:
                    return True
                if self.headers.get("Authorization") == f"Bearer {server.require_key}":
                    return True
                self.send_json(401, _error("Incorrect API key provided.",
                                           "invalid_request_error", "invalid_api_key"))
                return False

            def do_GET(self) -> None:
                if self.path.rstrip("/") != "/v1/models":
                    return self.send_json(404, _error(f"no route {self.path}", "not_found"))
                if self.authorized():
                    names = server.models or ["scripted"]
                    self.send_json(200, {"object": "list", "data": [
                        {"id": n, "object": "model", "created": 0, "owned_by": "scripted"}
                        for n in names]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return self.send_json(400, _error("body is not JSON", "invalid_request_error"))
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self.send_json(404, _error(f"no route {self.path}", "not_found"))
                if not self.authorized():
                    return
                model = body.get("model")
                if server.models is not None and model not in server.models:
                    return self.send_json(404, _error(
                        f"The model `{model}` does not exist or you do not have access to it.",
                        "invalid_request_error", "model_not_found"))
                if server.reject_tools and body.get("tools"):
                    return self.send_json(400, _error(
                        "tools are not supported by this server", "invalid_request_error",
                        None, "tools"))
                item = server.next_item()
                if item is None:
                    return self.send_json(400, _error(EXHAUSTED, "invalid_request_error"))
                time.sleep(float(item.get("delay", 0)))
                if "status" in item:
                    status = int(item["status"])
                    payload = item.get("body") or _error(f"scripted error {status}", "server_error")
                    return self.send_json(status, payload, item.get("headers"))
                if "garbage" in item:  # a 200 whose body is not the JSON it claims to be
                    data = str(item["garbage"]).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if not body.get("stream"):
                    return self.send_json(200, server.completion(item, body))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for index, piece in enumerate(server.chunks(item, body)):
                    if index == item.get("cut_after"):  # the connection drops mid-answer
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self.wfile.write(f"data: {json.dumps(piece)}\n\n".encode())
                    self.wfile.flush()
                    if server.chunk_delay:
                        time.sleep(server.chunk_delay)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a scripted OpenAI-compatible API.")
    parser.add_argument("script", help="JSON file: a list of scripted answers")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--require-key")
    parser.add_argument("--reject-tools", action="store_true")
    parser.add_argument("--chunk-delay", type=float, default=0.005, help="seconds between streamed chunks (a visible stream in demos)")
    args = parser.parse_args()
    with open(args.script, encoding="utf-8") as f:
        script = json.load(f)
    server = ScriptedOpenAIServer(script, port=args.port, require_key=args.require_key,
                                  reject_tools=args.reject_tools, chunk_delay=args.chunk_delay)
    with server:
        print(server.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
