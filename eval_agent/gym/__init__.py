"""The gym: verified tasks by the thousand. Task families generate Harbor tasks offline on the
sandbox image (families/), each checked before it is written: its solution passes and doing
nothing fails (validate.py); a model can write more (synthesize.py)."""
