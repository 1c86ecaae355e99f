"""The agent loop and what it speaks: the loop itself (agent), how actions are asked for and
parsed (tool_modes, text_protocol, json_protocol), views of actions, the plan checklist, and the
prompt templates."""
