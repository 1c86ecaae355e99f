"""Model specs -> Model objects.

    openai:NAME       the OpenAI API or any OpenAI-compatible server (--base-url / OPENAI_BASE_URL)
    PROVIDER:NAME     another LangChain chat model provider (anthropic, google_genai, ollama, ...)
    scripted:PATH     replay a JSON list of actions (demos, tests)
    local[:NAME|PATH] the embedded offline model: llama.cpp in this process (the `local` extra);
                      NAME from the catalog in weights.py (default qwen2.5-coder-1.5b) or a .gguf
    local+ADAPTER     the same with a LoRA adapter of `eval-agent finetune` (local:NAME+ADAPTER)

PROVIDER is looked up in the `eval_agent.models` entry points (plugins.py): the built-ins below
and any installed package's; a PROVIDER none of them names goes to LangChain. Only the chosen
provider's module is imported: `scripted` loads neither openai nor LangChain."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from eval_agent import plugins
from eval_agent.errors import UsageError
from eval_agent.models.base import Model

# here, not in langchain_chat: a bad spec is answered without importing LangChain
SPEC_FORMS = "openai:NAME, PROVIDER:NAME (e.g. anthropic:claude-sonnet-4-5), scripted:PATH or local"


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
    plugin = plugins.find(plugins.MODELS, provider)
    if plugin is None:
        from eval_agent.models.langchain_chat import load_provider_model

        return load_provider_model(provider, name, base_url=base_url, api_key=api_key, **params)
    factory = plugin.load()
    model = plugin.call(factory, name, base_url=base_url, api_key=api_key, log=log or (lambda line: None), **params)
    return plugin.expect(model, "a model", ("info", "complete"))


# -- the built-in providers: entry points in pyproject.toml --------------------------------
def _reject_unknown(target: Any, params: dict[str, Any], who: str) -> None:
    unknown = sorted(set(params) - set(inspect.signature(target).parameters))
    if unknown:
        raise UsageError(f"{who} does not take {', '.join(unknown)}")


def local_model(name: str, *, base_url: str | None = None, api_key: str | None = None,
                log: Callable[[str], None] | None = None, **params: Any) -> Model:
    from eval_agent.models.local import LocalModel

    if base_url:
        raise UsageError("--base-url does not apply to the embedded model (local); "
                         "for a llama.cpp server of your own use --model openai:NAME --base-url URL")
    _reject_unknown(LocalModel, params, "local")
    return LocalModel(name, log=log or (lambda line: None), **params)


def scripted_model(name: str, **_: Any) -> Model:
    from eval_agent.models.scripted import ScriptedModel

    return ScriptedModel(name)


def openai_model(name: str, *, base_url: str | None = None, api_key: str | None = None,
                 log: Callable[[str], None] | None = None, **params: Any) -> Model:
    from eval_agent.models.openai_chat import OpenAIChatModel

    _reject_unknown(OpenAIChatModel, params, f"openai:{name}")
    return OpenAIChatModel(name, base_url=base_url, api_key=api_key, **params)


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
