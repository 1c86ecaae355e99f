"""`openai:NAME`: the OpenAI API, or any OpenAI-compatible server (vLLM, llama.cpp, Ollama,
LM Studio), through langchain-openai's ChatOpenAI and the official openai client.

The base URL comes from the `base_url` argument (--base-url), else OPENAI_BASE_URL, else OpenAI's.
The key comes from `api_key`, else OPENAI_API_KEY; a server given by URL that needs no key gets a
placeholder. Retries are ours (the client has max_retries=0) so that they are counted."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse

import openai
from langchain_openai import ChatOpenAI

from eval_agent.errors import ModelError, ToolsUnsupported
from eval_agent.models.base import ModelInfo
from eval_agent.models.langchain_chat import (Failure, LangChainChatModel, as_response_format,
                                              error_text, tools_rejected)

OPENAI_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "not-needed"  # sent to servers that ignore the key; the openai client insists on one


class _ChatOpenAIForServers(ChatOpenAI):
    """ChatOpenAI with two wire fixes that OpenAI-compatible servers need."""

    def _get_request_payload(self, input_: Any, *, stop: list[str] | None = None, **kwargs: Any):
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        for message in payload.get("messages", []):
            # langchain-openai sends null content next to tool calls; several servers reject it
            if message.get("role") == "assistant" and message.get("content") is None:
                message["content"] = ""
        base = self.openai_api_base
        if base and urlparse(base).hostname != "api.openai.com" and (
            "max_completion_tokens" in payload
        ):
            # every OpenAI-compatible server knows max_tokens; not all know its newer name
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        return payload


def _as_response_format(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if schema is None else as_response_format(schema)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost cause: '[Errno 111] Connection refused' rather than 'Connection error.'"""
    seen = {id(exc)}
    while (nxt := exc.__cause__ or exc.__context__) is not None and id(nxt) not in seen:
        seen.add(id(nxt))
        exc = nxt
    return exc


class OpenAIChatModel(LangChainChatModel):
    def __init__(
        self,
        name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
        timeout: float = 300.0,
        max_attempts: int = 4,
        backoff: float = 0.5,
        prices: dict[str, Any] | None = None,
        http_client: Any = None,  # an httpx.Client of the caller's (the embedded model: no proxies)
    ):
        base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "").strip() or None
        env_key = os.environ.get("OPENAI_API_KEY") or None
        key = api_key or env_key
        self.key_source = "--api-key" if api_key else ("OPENAI_API_KEY" if env_key else None)
        if key is None:
            if base_url is None:
                raise ModelError(
                    f"no API key for openai:{name}: set OPENAI_API_KEY, or pass --base-url "
                    "for an OpenAI-compatible server that needs none"
                )
            key = NO_KEY
        self.timeout = timeout
        fmt = _as_response_format(response_format)
        chat_model = _ChatOpenAIForServers(
            model=name,
            base_url=base_url,
            api_key=key,
            temperature=temperature,
            max_tokens=max_tokens,
            timeout=timeout,
            max_retries=0,
            stream_usage=True,
            use_responses_api=False,
            http_client=http_client,
            output_version="v0",
            extra_body={"response_format": fmt} if fmt else None,
        )
        parameters: dict[str, Any] = {}
        for key_name, value in (("temperature", temperature), ("max_tokens", max_tokens),
                                ("response_format", fmt)):
            if value is not None:
                parameters[key_name] = value
        info = ModelInfo("openai", name, base_url or OPENAI_BASE_URL, parameters)
        super().__init__(chat_model, info, prices=prices,
                         max_attempts=max_attempts, backoff=backoff)

    def with_response_format(self, runnable: Any, response_format: dict[str, Any]) -> Any:
        # in the body, as servers expect it: ChatOpenAI's own response_format keyword switches
        # streaming to the beta parse API, which wants OpenAI's strict schemas
        body = {**(self.chat_model.extra_body or {}),
                "response_format": as_response_format(response_format)}
        return runnable.bind(extra_body=body)

    def probe(self, timeout: float = 10.0) -> str:
        """One cheap request, GET /models: is the server there, and does it serve the model?
        Raises ModelError (the same one-line messages as complete()) when not."""
        client = self.chat_model.root_client.with_options(timeout=timeout, max_retries=0)
        url, name = self.info.base_url, self.info.name
        try:
            served = [m.id for m in client.models.list()]
        except openai.NotFoundError:
            return f"{url} answers (it lists no models)"
        except Exception as exc:  # noqa: BLE001 - classified like a failed call
            failure = self.classify(exc, tools_sent=False)
            raise failure.error_class(failure.message) from exc
        if served and name not in served:
            shown = ", ".join(served[:8]) + (", ..." if len(served) > 8 else "")
            raise ModelError(f"model {name!r} is not served at {url}; it serves: {shown}")
        return f"{url} serves {name}"

    def classify(self, exc: BaseException, *, tools_sent: bool) -> Failure:
        url = self.info.base_url
        name = self.info.name
        text = error_text(exc)
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if tools_sent and status in (400, 422, 501) and tools_rejected(exc, status):
                return Failure(False, f"{url} does not accept tools ({status}): {text}",
                               ToolsUnsupported)
            if status == 401:
                if self.key_source is None:
                    fix = "set OPENAI_API_KEY (or pass --api-key)"
                else:
                    fix = f"check the key in {self.key_source}"
                return Failure(
                    False, f"{url} rejected the API key (401): {fix}; the server said: {text}"
                )
            if status == 403:
                return Failure(False, f"{url} denied access to model {name!r} (403): {text}")
            if status == 404:
                return Failure(
                    False,
                    f"model {name!r} not found at {url} (404): check the model name "
                    f"(GET {url.rstrip('/')}/models lists them) and that the base URL ends in /v1; "
                    f"the server said: {text}",
                )
            if status == 429:
                code = getattr(exc, "code", None)
                if code == "insufficient_quota":
                    return Failure(False, f"{url}: quota exceeded for the API key (429): {text}")
                return Failure(True, f"{url} kept rate-limiting requests (429): {text}")
            if status >= 500 or status in (408, 409):
                return Failure(True, f"{url} answered with a server error ({status}): {text}")
            return Failure(False, f"{url} rejected the request for {name!r} ({status}): {text}")
        if isinstance(exc, openai.APITimeoutError):
            return Failure(True, f"{url} did not answer within {self.timeout:g} s")
        if isinstance(exc, openai.APIConnectionError):
            why = error_text(_root_cause(exc)) or text
            return Failure(
                True,
                f"cannot connect to the model server at {url}: {why}; is it running? "
                "(set --base-url or OPENAI_BASE_URL)",
            )
        return super().classify(exc, tools_sent=tools_sent)
