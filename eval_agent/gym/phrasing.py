"""Words and data for the task families: names that vary between tasks, and small helpers to
write instructions in varied wording (several ways to ask, picked by the task's own random
generator), so a dataset is not one template with blanks."""

from __future__ import annotations

import random
import textwrap

FIRST_NAMES = ["Ada", "Bruno", "Chen", "Dalia", "Emeka", "Freya", "Goran", "Hana", "Ivo", "Jun", "Kemal", "Lena",
               "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tove", "Uma", "Viktor", "Wen", "Yara", "Zed"]
CITIES = ["Lisbon", "Oslo", "Nairobi", "Osaka", "Lima", "Tallinn", "Porto", "Hanoi", "Quito", "Perth", "Accra",
          "Bergen", "Cusco", "Dakar", "Ghent", "Izmir", "Kyoto", "Lyon", "Malmo", "Nantes", "Riga", "Split"]
PRODUCTS = ["lamp", "kettle", "notebook", "backpack", "headset", "mug", "charger", "blender", "umbrella", "scarf",
            "stapler", "monitor", "keyboard", "teapot", "candle", "drone", "helmet", "tripod", "router", "speaker"]
NOUNS = ["ledger", "orchid", "falcon", "harbor", "meadow", "quartz", "ember", "lantern", "summit", "willow",
         "comet", "delta", "glacier", "maple", "nebula", "pebble", "raven", "saffron", "tundra", "violet"]
ADJECTIVES = ["amber", "brisk", "crimson", "dusty", "eager", "frosty", "gentle", "hollow", "ivory", "jolly",
              "keen", "lucid", "mellow", "nimble", "olive", "proud", "quiet", "rapid", "silver", "tidy"]
COMPONENTS = ["auth", "billing", "cache", "db", "gateway", "mailer", "queue", "scheduler", "search", "storage",
              "payments", "profile", "uploader", "worker", "indexer", "notifier"]


def one_of(rng: random.Random, *options):
    return rng.choice(options)


def slug(rng: random.Random, separator: str = "_") -> str:
    """A plausible identifier: amber_ledger, quiet-falcon ..."""
    return f"{rng.choice(ADJECTIVES)}{separator}{rng.choice(NOUNS)}"


def sample(rng: random.Random, pool: list[str], count: int) -> list[str]:
    return rng.sample(pool, min(count, len(pool)))


def paragraph(*sentences: str) -> str:
    """Sentences (empty ones dropped) as a wrapped paragraph."""
    # never at a hyphen: a path or a name in backticks (`svc-comet`) stays on one line
    return textwrap.fill(" ".join(s.strip() for s in sentences if s and s.strip()), width=96,
                         break_on_hyphens=False)


def instruction(*paragraphs: str) -> str:
    """Paragraphs, each already wrapped or a bullet list, separated by blank lines."""
    return "\n\n".join(p.strip("\n") for p in paragraphs if p and p.strip()) + "\n"


def bullets(items: list[str]) -> str:
    return "\n".join(textwrap.fill(item, width=96, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False)
                     for item in items)
