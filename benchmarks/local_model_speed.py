"""Tokens per second of the embedded model through eval-agent's local backend, against llama.cpp
called directly, on the same GGUF and the same loaded model, in one run.

  direct    xllamacpp's Server.handle_chat_completions(request): llama.cpp's own server code called
            in process, no HTTP, no client
  backend   LocalModel.complete(messages): what the agent does (the openai client through
            langchain-openai, HTTP on loopback, streaming as in the terminal, or not as with --json)

Each round runs the same greedy request once each way, back to back (the order alternates), so
that both see the same load on the machine and the same prompt cache; tokens per second is output
tokens over wall time, and the ratio is the median of the per-round ratios.
Goal: backend / direct >= 0.95. It also prints the model's prompt and generation speed as llama.cpp
measures them (first, uncached call).

    python benchmarks/local_model_speed.py [--model qwen2.5-coder-1.5b|smollm2-135m|PATH.gguf]
                                           [--rounds 5] [--max-tokens 128]

Exits 0 whether the goal is met or not (it reports; it does not gate)."""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from eval_agent.errors import EvalAgentError
from eval_agent.models.local import DEFAULT_TOP_K, DEFAULT_TOP_P, LocalModel

GOAL = 0.95
PROMPT = ("Write a Python module with five small utility functions for strings (slugify, truncate, "
          "title case, word count, reverse words), each with a docstring and a doctest.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="", help="a model of `eval-agent models ls` or a .gguf (default: the embedded default)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--max-tokens", type=int, default=128, help="output tokens per call (default 128)")
    args = parser.parse_args(argv)
    try:
        started = time.monotonic()
        model = LocalModel(args.model, temperature=0, max_tokens=args.max_tokens,
                           log=lambda line: print(line, file=sys.stderr))
    except EvalAgentError as exc:
        print(f"local_model_speed: {exc}", file=sys.stderr)
        return 3
    print(f"model: {model.info.name} ({model.target.path.name}), loaded in {time.monotonic() - started:.1f} s")
    server = model.server.server
    messages = [{"role": "user", "content": PROMPT}]
    request = {"messages": messages, "max_tokens": args.max_tokens, "temperature": 0,
               "top_p": DEFAULT_TOP_P, "top_k": DEFAULT_TOP_K}

    def direct() -> int:
        return server.handle_chat_completions(dict(request))["usage"]["completion_tokens"]

    def backend(stream: bool) -> int:
        response = model.complete(messages, on_text=(lambda text: None) if stream else None)
        return response.usage.output_tokens or 0

    first = server.handle_chat_completions({**request, "cache_prompt": False})
    timings = first.get("timings", {})
    print(f"llama.cpp's own timings, uncached: prompt {timings.get('prompt_n')} tokens at "
          f"{timings.get('prompt_per_second', 0):.1f} tokens/s, generation {timings.get('predicted_n')} tokens "
          f"at {timings.get('predicted_per_second', 0):.1f} tokens/s")
    runs = {"direct": direct, "backend (stream)": lambda: backend(True), "backend (no stream)": lambda: backend(False)}
    speeds: dict[str, list[float]] = {name: [] for name in runs}
    counts: dict[str, set[int]] = {name: set() for name in runs}
    order = list(runs)
    for round_number in range(args.rounds):
        # alternate the order so that no path always runs first in a round
        for name in (order if round_number % 2 == 0 else order[::-1]):
            began = time.perf_counter()
            tokens = runs[name]()
            speeds[name].append(tokens / (time.perf_counter() - began))
            counts[name].add(tokens)
    direct_speed = statistics.median(speeds["direct"])
    print(f"{'path':<22}{'tokens/s (median)':>18}{'min':>8}{'max':>8}  output tokens per call")
    for name, values in speeds.items():
        print(f"{name:<22}{statistics.median(values):>18.2f}{min(values):>8.2f}{max(values):>8.2f}  "
              f"{', '.join(map(str, sorted(counts[name])))}")
    for name in ("backend (stream)", "backend (no stream)"):
        # the median of per-round ratios: each pair ran back to back, under the same load
        ratio = statistics.median(b / d for b, d in zip(speeds[name], speeds["direct"]))
        verdict = "meets" if ratio >= GOAL else "misses"
        print(f"ratio {name} / direct: {ratio:.3f} (median of {args.rounds} paired rounds; "
              f"medians alone: {statistics.median(speeds[name]) / direct_speed:.3f}; {verdict} the goal of >= {GOAL})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
