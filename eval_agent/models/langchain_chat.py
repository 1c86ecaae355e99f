"""Any LangChain chat model behind the Model protocol, and `PROVIDER:NAME` specs for the providers
LangChain knows (anthropic, google_genai, mistralai, groq, ollama, ...).

LangChainChatModel holds the call loop every chat backend shares: message conversion, native
tool binding, streaming, usage, and our own retries with exponential backoff (the clients are
built with max_retries=0 so that retries are counted). OpenAIChatModel (openai_chat.py) is a
subclass that knows the OpenAI error codes in more detail."""

from __future__ import annotations

import importlib
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from langchain_core.messages import AIMessage, BaseMessage

from eval_agent.errors import ModelError, UsageError
from eval_agent.models.base import Message, ModelInfo, ModelResponse, ToolSchema
from eval_agent.models.convert import message_text, to_langchain, to_response
from eval_agent.models.pricing import Pricer
from eval_agent.models.registry import SPEC_FORMS

# provider -> (module, class, pip package, accepts max_retries)
PROVIDERS: dict[str, tuple[str, str, str, bool]] = {
    "anthropic": ("langchain_anthropic", "ChatAnthropic", "langchain-anthropic", True),
    "azure_openai": ("langchain_openai", "AzureChatOpenAI", "langchain-openai", True),
    "google_genai": (
        "langchain_google_genai", "ChatGoogleGenerativeAI", "langchain-google-genai", True),
    "google_vertexai": (
        "langchain_google_vertexai", "ChatVertexAI", "langchain-google-vertexai", True),
    "bedrock_converse": ("langchain_aws", "ChatBedrockConverse", "langchain-aws", False),
    "mistralai": ("langchain_mistralai", "ChatMistralAI", "langchain-mistralai", True),
    "groq": ("langchain_groq", "ChatGroq", "langchain-groq", True),
    "ollama": ("langchain_ollama", "ChatOllama", "langchain-ollama", False),
    "fireworks": ("langchain_fireworks", "ChatFireworks", "langchain-fireworks", True),
    "together": ("langchain_together", "ChatTogether", "langchain-together", True),
    "deepseek": ("langchain_deepseek", "ChatDeepSeek", "langchain-deepseek", True),
    "xai": ("langchain_xai", "ChatXAI", "langchain-xai", True),
    "cohere": ("langchain_cohere", "ChatCohere", "langchain-cohere", True),
    "perplexity": ("langchain_perplexity", "ChatPerplexity", "langchain-perplexity", True),
}


# a server saying that it cannot take `tools` (vLLM, llama.cpp, Ollama, LM Studio, OpenAI wording)
_TOOLS_REJECTED = re.compile(
    r"(support|enable|allow|require|available).{0,40}\b(tools?|tool.choice|function.call(ing)?)\b"
    r"|\b(tools?|tool.choice|function.call(ing)?)\b.{0,40}"
    r"(not supported|unsupported|require|not enabled|not available|not allowed)",
    re.IGNORECASE,
)
_PROGRAMMING_ERRORS = (TypeError, AttributeError, KeyError, NameError, IndexError)


@dataclass
class Failure:
    """How one failed attempt is handled: retried (while attempts remain) or raised at once."""

    retryable: bool
    message: str
    error_class: type[ModelError] = ModelError


def error_text(exc: BaseException) -> str:
    """The server's own message when it sent one, else the exception's text; one line."""
    body = getattr(exc, "body", None)
    text = body.get("message") if isinstance(body, dict) else None
    return " ".join(str(text or getattr(exc, "message", None) or exc or type(exc).__name__).split())


def tools_rejected(exc: BaseException, status: int | None) -> bool:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and body.get("param") in ("tools", "tool_choice"):
        return True
    return status in (400, 422, 501, None) and bool(_TOOLS_REJECTED.search(error_text(exc)))


class LangChainChatModel:
    """The Model protocol over a LangChain BaseChatModel."""

    def __init__(
        self,
        chat_model: Any,
        info: ModelInfo,
        *,
        prices: dict[str, Any] | None = None,
        max_attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ):
        if max_attempts < 1:
            raise UsageError("max_attempts must be at least 1")
        self.chat_model = chat_model
        self.info = info
        self.pricer = Pricer(info.name, prices)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff

    def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        on_text: Callable[[str], None] | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> ModelResponse:
        lc_messages = to_langchain(messages)
        runnable = self.chat_model.bind_tools(tools) if tools else self.chat_model
        if response_format is not None:
            runnable = self.with_response_format(runnable, response_format)
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            streamed: list[str] = []
            try:
                answer = self._call(runnable, lc_messages, on_text, streamed)
                break
            except TypeError as exc:
                if response_format is not None and "response_format" in str(exc):
                    raise UsageError(f"{self.where} does not take response_format (--tool-mode json); "
                                     "use --tool-mode native or text") from None
                raise
            except _PROGRAMMING_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - every provider raises its own types
                failure = self.classify(exc, tools_sent=bool(tools))
                if streamed and failure.retryable:
                    failure = Failure(False, f"the answer stream broke off: {failure.message}")
                if failure.retryable and attempt < self.max_attempts:
                    time.sleep(self._delay(attempt, exc))
                    continue
                message = failure.message
                if attempt > 1:
                    message += f" (gave up after {attempt} attempts)"
                raise failure.error_class(message) from exc
        response = to_response(answer, cost_of=self.pricer)
        response.latency = time.monotonic() - start
        response.retries = attempt - 1
        return response

    @staticmethod
    def _call(runnable, lc_messages: list[BaseMessage], on_text, streamed: list[str]) -> AIMessage:
        if on_text is None:
            return runnable.invoke(lc_messages)
        merged = None
        for chunk in runnable.stream(lc_messages):
            text = message_text(chunk)
            if text:
                streamed.append(text)
                on_text(text)
            merged = chunk if merged is None else merged + chunk
        return merged if merged is not None else AIMessage(content="")

    def with_response_format(self, runnable: Any, response_format: dict[str, Any]) -> Any:
        """`runnable` constrained to `response_format` for one call. LangChain's chat models
        take it as a call keyword; OpenAIChatModel sends it in the request body instead."""
        return runnable.bind(response_format=as_response_format(response_format))

    def _delay(self, attempt: int, exc: BaseException) -> float:
        delay = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
        headers = getattr(getattr(exc, "response", None), "headers", None)
        retry_after = headers.get("retry-after") if headers is not None else None
        try:
            return max(delay, min(float(retry_after), 30.0)) if retry_after else delay
        except ValueError:
            return delay

    @property
    def where(self) -> str:
        return f"{self.info.provider}:{self.info.name}" + (
            f" at {self.info.base_url}" if self.info.base_url else ""
        )

    def classify(self, exc: BaseException, *, tools_sent: bool) -> Failure:
        """Provider-neutral classification: LangChain's standard model errors, else an HTTP
        status on the exception, else the exception's class name."""
        from eval_agent.errors import ToolsUnsupported

        status = getattr(exc, "status_code", None)
        status = status if isinstance(status, int) else None
        kind = type(exc).__name__
        text = error_text(exc)
        if tools_sent and (status or "InvalidRequest" in kind) and tools_rejected(exc, status):
            return Failure(False, f"{self.where} does not accept tools: {text}", ToolsUnsupported)
        if status in (401, 403) or "Authentication" in kind or "PermissionDenied" in kind:
            return Failure(False, f"{self.where} rejected the credentials: {text}")
        if status == 404 or "NotFound" in kind:
            return Failure(False, f"model {self.info.name!r} not found ({self.where}): {text}")
        retryable = getattr(exc, "is_retryable", None)
        if retryable is None:
            retryable = status in (408, 409, 429) or (status or 0) >= 500 or (
                status is None and any(w in kind for w in ("Timeout", "Connection", "RateLimit"))
            )
        return Failure(bool(retryable), f"{self.where} failed: {kind}: {text}")


def as_response_format(schema: dict[str, Any]) -> dict[str, Any]:
    """A full response_format ({"type": ...}) as is; a bare JSON schema wrapped as json_schema."""
    if schema.get("type") in ("json_schema", "json_object", "text") and (
        "json_schema" in schema or schema["type"] != "json_schema"
    ):
        return schema
    return {"type": "json_schema", "json_schema": {"name": "action", "schema": schema}}


def load_provider_model(
    provider: str,
    name: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    timeout: float | None = 300.0,
    max_attempts: int = 4,
    backoff: float = 0.5,
    prices: dict[str, Any] | None = None,
    **extra: Any,
) -> LangChainChatModel:
    """`PROVIDER:NAME` through langchain's init_chat_model when langchain is installed, else
    through the provider's own LangChain package (the table above)."""
    known = PROVIDERS.get(provider)
    if known:
        module, _cls, package, _ = known
        try:
            importlib.import_module(module)
        except ImportError:
            raise UsageError(
                f"the {provider} provider needs the {package} package: pip install {package}"
            ) from None
    kwargs: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    for key, value in (("base_url", base_url), ("api_key", api_key),
                       ("temperature", temperature), ("max_tokens", max_tokens),
                       ("timeout", timeout)):
        if value is not None:
            kwargs[key] = value
    if known is None or known[3]:
        kwargs["max_retries"] = 0  # we retry, and count
    try:
        chat_model = _build(provider, name, kwargs)
    except (UsageError, ModelError):
        raise
    except Exception as exc:  # noqa: BLE001 - a provider's own validation (missing key, ...)
        raise ModelError(f"cannot set up {provider}:{name}: {error_text(exc)}") from exc
    parameters = {k: v for k, v in (("temperature", temperature), ("max_tokens", max_tokens))
                  if v is not None}
    parameters.update({k: v for k, v in extra.items() if v is not None})
    info = ModelInfo(provider=provider, name=name, base_url=base_url, parameters=parameters)
    return LangChainChatModel(chat_model, info, prices=prices,
                              max_attempts=max_attempts, backoff=backoff)


def _build(provider: str, name: str, kwargs: dict[str, Any]):
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        init_chat_model = None
    if init_chat_model is not None:
        try:
            return init_chat_model(name, model_provider=provider, **kwargs)
        except ImportError as exc:
            match = re.search(r"pip install(?: -U)? ([\w\-\[\]]+)", str(exc))
            package = match.group(1) if match else f"langchain-{provider.replace('_', '-')}"
            raise UsageError(
                f"the {provider} provider needs the {package} package: pip install {package}"
            ) from None
        except ValueError as exc:
            if "provider" in str(exc).lower():
                raise UsageError(
                    f"unknown model provider {provider!r}: use {SPEC_FORMS}"
                ) from None
            raise
    if provider not in PROVIDERS:
        raise UsageError(
            f"unknown model provider {provider!r}: use {SPEC_FORMS}; known providers: "
            + ", ".join(["openai", *PROVIDERS])
        )
    module, cls, _package, _ = PROVIDERS[provider]
    return getattr(importlib.import_module(module), cls)(model=name, **kwargs)
