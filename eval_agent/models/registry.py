"""Model specs -> Model objects.

    openai:NAME       the OpenAI API or any OpenAI-compatible server (--base-url / OPENAI_BASE_URL)
    PROVIDER:NAME     another LangChain chat model provider (anthropic, google_genai, ollama, ...)
    scripted:PATH     replay a JSON list of actions (demos, tests)
    local[:NAME|PATH] the embedded offline model: llama.cpp in this process (the `local` extra);
                      NAME from the catalog in weights.py (default qwen2.5-coder-1.5b) or a .gguf
    local+ADAPTER     the same with a LoRA adapter of `eval-agent finetune` (local:NAME+ADAPTER)

A new backend is one new module and one line in `load_model`."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from eval_agent.errors import UsageError
from eval_agent.models.base import Model
from eval_agent.models.langchain_chat import SPEC_FORMS


def parse_spec(spec: str) -> tuple[str, str]:
    """'openai:gpt-4o' -> ('openai', 'gpt-4o'); the name may itself hold colons (llama3:8b)."""
    spec = (spec or "").strip()
    if spec == "local" or spec.startswith("local+"):
        return "local", spec[len("local"):]
    provider, colon, name = spec.partition(":")
    if not colon:
        raise UsageError(f"model spec {spec!r} is not understood: use {SPEC_FORMS}")
    provider, name = provider.strip().lower(), name.strip()
    if not provider or (not name and provider != "local"):
        raise UsageError(f"model spec {spec!r} needs both a provider and a name: use {SPEC_FORMS}")
    return provider, name


def load_model(
    spec: str, *, base_url: str | None = None, api_key: str | None = None,
    log: Callable[[str], None] | None = None, **params: Any
) -> Model:
    """`log` receives progress lines of a slow start (the embedded model's first download)."""
    provider, name = parse_spec(spec)
    if provider == "local":
        from eval_agent.models.local import LocalModel

        if base_url:
            raise UsageError("--base-url does not apply to the embedded model (local); "
                             "for a llama.cpp server of your own use --model openai:NAME --base-url URL")
        accepted = inspect.signature(LocalModel).parameters
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise UsageError(f"local does not take {', '.join(unknown)}")
        return LocalModel(name, log=log or (lambda line: None), **params)
    if provider == "scripted":
        from eval_agent.models.scripted import ScriptedModel

        return ScriptedModel(name)
    if provider == "openai":
        from eval_agent.models.openai_chat import OpenAIChatModel

        accepted = inspect.signature(OpenAIChatModel).parameters
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise UsageError(f"openai:{name} does not take {', '.join(unknown)}")
        return OpenAIChatModel(name, base_url=base_url, api_key=api_key, **params)
    from eval_agent.models.langchain_chat import load_provider_model

    return load_provider_model(provider, name, base_url=base_url, api_key=api_key, **params)


def probe_model(spec: str, *, base_url: str | None = None, api_key: str | None = None) -> str:
    """For `eval-agent doctor`: one line on whether `spec` can answer, without a paid call.
    openai:NAME asks the server for its model list; scripted:PATH loads the file; other
    providers are built (package installed, settings accepted) but not contacted; local says
    whether the runtime and the weights are installed, without fetching or loading them."""
    provider, name = parse_spec(spec)
    if provider == "local":
        from eval_agent.models.local import probe_local

        return probe_local(name)
    model = load_model(spec, base_url=base_url, api_key=api_key)
    probe = getattr(model, "probe", None)
    if probe is not None:
        return probe()
    actions = getattr(model, "actions", None)
    if actions is not None:
        return f"{len(actions)} scripted actions"
    return f"{model.info.provider} package installed (the provider was not contacted)"
