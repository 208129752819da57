"""Batch intent rankings from a Rasa model file, run inside the Rasa environment.

``python -m nlu.rasa_predict MODEL OUT.json < texts.json``; used by
``python -m nlu evaluate`` for the DIET baseline, which has no server of its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys


async def _predict(model: str, texts: list[str]) -> list[list[list[object]]]:
    from rasa.core.agent import Agent  # imported here: only exists in the Rasa environment

    agent = Agent.load(model)
    rankings = []
    for text in texts:
        parsed = await agent.parse_message(text)
        ranking = parsed.get("intent_ranking") or [parsed.get("intent")]
        rankings.append([[item["name"], float(item["confidence"])] for item in ranking if item])
    return rankings


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    texts = json.load(sys.stdin)
    rankings = asyncio.run(_predict(sys.argv[1], texts))
    # A file, not stdout: Rasa prints its own messages on stdout while loading.
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(rankings, out, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
