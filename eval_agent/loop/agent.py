"""The loop: plan, then one tool call at a time until `finish`, a limit, or an interrupt.

The message list is kept exactly as sent: the trajectory records each call's new messages and
the answer, so what is exported is what the model saw."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any, Callable

from ..errors import FormatError, ToolsUnsupported
from ..events import (EventSink, FormatErrorEvent, ModelCalled, Notice, PlanUpdated, Reviewed, ToolFinished,
                      ToolsChanged, ToolStarted, UserDecision)
from ..models.base import Message, Model, ModelResponse, ToolCall
from ..sandbox.base import Sandbox
from ..tools.base import Observation, Tool
from ..tools.registry import run_tool, tool_schemas
from .actions import arguments_of, describe, openai_tool_call
from .plan import parse_checklist
from .prompts import Prompts
from .review import DiffSource, Evidence, Reviewer, step_evidence
from .state import Approval, Limits, Outcome
from .tool_modes import make_mode


class Agent:
    def __init__(self, model: Model, sandbox: Sandbox, tools: list[Tool], prompts: Prompts,
                 emit: EventSink, limits: Limits | None = None, tool_mode: str = "native",
                 system_variables: dict[str, Any] | None = None,
                 commit_step: Callable[[int, str], str | None] | None = None,
                 on_text: Callable[[str], None] | None = None,
                 approve: Callable[[ToolCall], Approval] | None = None,
                 reviewer: Reviewer | None = None, diff: DiffSource | None = None):
        self.model, self.sandbox, self.tools, self.prompts = model, sandbox, tools, prompts
        self.emit, self.limits = emit, limits or Limits()
        # auto: native function calling, and the text protocol if the server rejects tools
        self.text_fallback = tool_mode == "auto"
        self.mode = make_mode("native" if tool_mode == "auto" else tool_mode)
        self.system_variables = system_variables or {}
        self.commit_step, self.on_text = commit_step, on_text
        self.approve = approve  # None: every action runs (auto); else asked before each one
        self.reviewer, self.diff = reviewer, diff  # reviewer None: finish is taken at its word
        self.messages: list[Message] = []
        self.plan: list[dict] = []
        self._sent = 0  # messages already sent to the model

    @property
    def tool_mode(self) -> str:
        return self.mode.name

    def reset(self) -> None:
        """A new conversation (same sandbox)."""
        self.messages, self.plan, self._sent = [], [], 0

    # -- one request ---------------------------------------------------------------
    def run(self, request: str) -> Outcome:
        self.outcome = Outcome(status="running")
        self._started = time.monotonic()
        self._format_errors = self._repeats = 0
        self._last_action: tuple | None = None
        self._failures: Counter[tuple] = Counter()  # each failed action with its result, over the run
        self._request, self._evidence, self._reviews = request, [], 0
        self._sent = 0  # each run's record starts with the whole conversation it continues
        follow_up = bool(self.messages)
        if not follow_up:
            self._append("system", self.prompts.render("system", tool_mode=self.mode.name, **self.system_variables))
        self._append("user", self.prompts.render("follow_up" if follow_up else "plan", request=request, max_items=8))
        try:
            answer = self._call("plan", with_tools=False)
            if answer.tool_calls:  # the model acted at once: fine
                self._act(answer.tool_calls)
            else:
                self._append("user", self.prompts.render("start"))
            while self.outcome.status == "running" and not self._limit_reached():
                answer = self._call("act", with_tools=True)
                calls = self._calls_in(answer)
                if calls:
                    self._act(calls)
        except KeyboardInterrupt:
            self._end("interrupted", "interrupted by the user")
        self.outcome.seconds = time.monotonic() - self._started
        self.outcome.plan = self.plan
        return self.outcome

    # -- model ---------------------------------------------------------------------
    def _call(self, purpose: str, with_tools: bool) -> ModelResponse:
        options = self.mode.request_options(tool_schemas(self.tools)) if with_tools else {}
        try:
            response = self.model.complete(self.messages, on_text=self.on_text, **options)
        except ToolsUnsupported:
            if not (with_tools and self.text_fallback):
                raise
            self._switch_to_text_protocol()
            return self._call(purpose, with_tools=False)
        written = response.content
        if hasattr(self.mode, "decode"):  # json mode: its action (even in a plan) becomes a tool call
            response = self.mode.decode(response)
        new_messages = self.messages[self._sent:]
        answer: Message = {"role": "assistant", "content": response.content or ""}
        if response.tool_calls and self.mode.native_tool_messages:
            answer["tool_calls"] = [openai_tool_call(call, self.outcome.steps, i) for i, call in enumerate(response.tool_calls)]
            for call, sent in zip(response.tool_calls, answer["tool_calls"]):
                call.id = sent["id"]
        self.messages.append(answer)
        self._sent = len(self.messages)
        self._account(response)
        self.emit(ModelCalled(step=self.outcome.steps, purpose=purpose, new_messages=new_messages, answer=answer,
                              input_tokens=response.usage.input_tokens, output_tokens=response.usage.output_tokens,
                              cost=response.usage.cost, latency=response.latency, retries=response.retries,
                              written=written if written != answer["content"] else None))
        plan = parse_checklist(response.content)
        if plan and plan != self.plan:
            self.plan = plan
            self.emit(PlanUpdated(items=plan))
        return response

    def _calls_in(self, answer: ModelResponse) -> list[ToolCall]:
        """The actions in an answer; a format error (fed back to the model) when there are none."""
        try:
            calls = self.mode.parse(answer)
            self._format_errors = 0
            return calls
        except FormatError as exc:
            error = str(exc)
        self._format_errors += 1
        self.emit(FormatErrorEvent(step=self.outcome.steps, error=error))
        self._append("user", self.prompts.render("format_error", error=error, tool_mode=self.mode.name,
                                                 tool_names=[tool.name for tool in self.tools]))
        if self._format_errors >= self.limits.max_format_errors:
            self._end("limit", f"{self._format_errors} answers in a row had no usable action")
        return []

    # -- tools ---------------------------------------------------------------------
    def _act(self, calls: list[ToolCall]) -> None:
        pending = list(calls)
        try:
            while pending and self.outcome.status == "running":
                self._run_one(pending[0])
                pending.pop(0)
        finally:  # every native tool call gets its answer, or the conversation cannot go on
            for call in pending:
                self._answer_tool(call, "Not run: the run was stopped before this call.")

    def _run_one(self, call: ToolCall) -> None:
        self.outcome.steps += 1
        step = self.outcome.steps
        self.emit(ToolStarted(step=step, tool=call.name, arguments=call.arguments, call_id=call.id))
        if call.name == "finish" and self.reviewer is not None and self._reviews < self.reviewer.max_reviews:
            findings = self._review(step, call)
            if findings is not None:
                self._record_step(step, call, Observation(output=findings, ok=False))
                return
        if self.approve is not None and call.name != "finish":
            call, rejection = self._ask_approval(step, call)
            if rejection is not None:
                self._record_step(step, call, rejection)
                return
        try:
            observation = run_tool(self.tools, call, self.sandbox)
        except KeyboardInterrupt as interrupt:
            partial = getattr(interrupt, "result", None)
            output = (partial.output if partial else "") + "\n[interrupted by the user]"
            observation = Observation(output=output.strip(), ok=False, exit_code=130)
            self._record_step(step, call, observation)
            raise
        self._record_step(step, call, observation)
        if observation.details.get("new_tool") is not None:
            self._offer(step, observation.details["new_tool"])
        if observation.finished:
            self._end("finished", "the agent called finish", summary=observation.output)
        else:
            self._check_stuck(call, observation)

    def _ask_approval(self, step: int, call: ToolCall) -> tuple[ToolCall, Observation | None]:
        approval = self.approve(call)
        self.emit(UserDecision(step=step, tool=call.name, arguments=call.arguments, decision=approval.decision,
                               comment=approval.comment, edited_arguments=approval.arguments))
        if approval.decision == "rejected":
            comment = approval.comment or "(no comment)"
            return call, Observation(output=f"The user rejected this action and did not run it. Their comment: {comment}",
                                     ok=False, details={"rejected": True})
        if approval.decision == "edited" and approval.arguments is not None:
            return ToolCall(name=call.name, arguments=approval.arguments, id=call.id), None
        return call, None

    def _review(self, step: int, call: ToolCall) -> str | None:
        """The reviewer's findings, as the answer to the finish call; None when it accepts."""
        self._reviews += 1
        evidence = Evidence(self._request, str(arguments_of(call).get("summary", "")), self._evidence,
                            self.diff() if self.diff else None)
        turn = self.reviewer.review(evidence)
        response, verdict = turn.response, turn.verdict
        self._account(response)
        self.emit(Reviewed(step=step, model=self.reviewer.model.info.name, messages=turn.messages,
                           answer={"role": "assistant", "content": response.content or ""}, accepted=verdict.accepted,
                           findings=verdict.findings, input_tokens=response.usage.input_tokens,
                           output_tokens=response.usage.output_tokens, cost=response.usage.cost, latency=response.latency))
        return None if verdict.accepted else self.prompts.render("review_findings", findings=verdict.findings)

    def _offer(self, step: int, tool: Tool) -> None:
        """A tool the agent built joins the set (replacing an earlier one of that name)."""
        self.tools = [known for known in self.tools if known.name != tool.name] + [tool]
        self.emit(ToolsChanged(step=step, tools=tool_schemas(self.tools), added=tool.name))

    def _record_step(self, step: int, call: ToolCall, observation: Observation) -> None:
        action = describe(call)
        commit = self.commit_step(step, action) if self.commit_step and call.name != "finish" else None
        if call.name != "finish":
            self._evidence.append(step_evidence(step, action, observation.exit_code, observation.ok,
                                                observation.full_output or observation.output))
        steps_left = self.limits.max_steps - step
        failed = not observation.ok and call.name != "finish" and not observation.details.get("rejected")
        text = self.prompts.render("observation", tool=call.name, output=observation.output,
                                   tool_mode=self.mode.name, steps_left=steps_left,
                                   cut_chars=observation.details.get("cut_chars", 0), failed=failed,
                                   path=str(arguments_of(call).get("path") or "")[:200])
        self._answer_tool(call, text)
        self.emit(ToolFinished(step=step, tool=call.name, arguments=call.arguments, call_id=call.id,
                               observation=text, ok=observation.ok, exit_code=observation.exit_code,
                               full_output=observation.full_output, duration=observation.duration,
                               timed_out=observation.timed_out, commit=commit))

    def _answer_tool(self, call: ToolCall, text: str) -> None:
        if self.mode.native_tool_messages and call.id:
            self._append("tool", text, tool_call_id=call.id)
        else:
            self._append("user", text)

    def _check_stuck(self, call: ToolCall, observation: Observation) -> None:
        """The same action with the same result, in a row, or failing the same way with other
        steps between (a small model's loop: a wrong edit, a read, the same wrong edit)."""
        action = (call.name, json.dumps(call.arguments, sort_keys=True), observation.output)
        self._repeats = self._repeats + 1 if action == self._last_action else 1
        self._last_action = action
        repeats = self._repeats
        if not observation.ok:
            self._failures[action] += 1
            repeats = max(repeats, self._failures[action])
        if repeats == self.limits.stuck_repeats:
            self.emit(Notice(message=f"the same action gave the same result {repeats} times", level="warning"))
            self._append("user", self.prompts.render("stuck_warning", action=describe(call)))
        elif repeats > self.limits.stuck_repeats:
            self._end("limit", "stuck: the same action kept giving the same result")

    def _switch_to_text_protocol(self) -> None:
        self.mode, self.text_fallback = make_mode("text"), False
        self.emit(Notice(message="the model server rejected native tools: using the text protocol", level="warning"))
        self.messages[0]["content"] = self.prompts.render("system", tool_mode="text", **self.system_variables)
        self._sent = 0  # the next record carries the whole, changed conversation

    # -- bookkeeping ---------------------------------------------------------------
    def _limit_reached(self) -> bool:
        outcome, limits = self.outcome, self.limits
        if outcome.steps >= limits.max_steps:
            self._end("limit", f"step limit reached ({limits.max_steps} steps)")
        elif limits.max_cost is not None and outcome.cost is not None and outcome.cost >= limits.max_cost:
            self._end("limit", f"cost limit reached (${outcome.cost:.4f} of ${limits.max_cost})")
        elif limits.max_seconds is not None and time.monotonic() - self._started >= limits.max_seconds:
            self._end("limit", f"time limit reached ({limits.max_seconds:.0f} s)")
        return self.outcome.status != "running"

    def _account(self, response: ModelResponse) -> None:
        usage = self.outcome
        usage.input_tokens += response.usage.input_tokens or 0
        usage.output_tokens += response.usage.output_tokens or 0
        if usage.cost is not None:  # one unknown price makes the total unknown
            usage.cost = None if response.usage.cost is None else usage.cost + response.usage.cost

    def _end(self, status: str, reason: str, summary: str = "") -> None:
        self.outcome.status, self.outcome.reason, self.outcome.summary = status, reason, summary

    def _append(self, role: str, content: str, **extra: Any) -> None:
        self.messages.append({"role": role, "content": content, **extra})
