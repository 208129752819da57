"""docker-compose.yml's structure, checked without a Docker client (none on CI machines).

``docker compose config`` is the real check where a client exists; this catches what it would
catch for us: a dependency on a missing service, a scale profile without its pieces, the proxy
pointing at processes or ports that do not exist.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return compose["services"]


def test_every_dependency_is_a_service_of_a_profile_that_runs_with_it() -> None:
    services = _services()
    for name, service in services.items():
        profiles = set(service.get("profiles", []))
        for dependency in service.get("depends_on", []):
            assert dependency in services, (name, dependency)
            theirs = set(services[dependency].get("profiles", []))
            assert not theirs or theirs & profiles, f"{name} depends on {dependency}, which runs in {theirs}"


def test_the_scale_profile_has_two_nlu_servers_two_webhook_bots_a_proxy_and_senders() -> None:
    services = _services()
    scale = {name for name, s in services.items() if "scale" in s.get("profiles", [])}
    assert {"rasa-2", "bot-1", "bot-2", "webhook", "sender"} <= scale
    assert services["bot"]["profiles"] == ["single"]  # never a polling bot next to the webhook ones
    for name in ("bot-1", "bot-2"):
        environment = services[name]["environment"]
        assert environment["RASA_URLS"] == "http://rasa:5005,http://rasa-2:5005"
        command = services[name]["command"][-1]
        assert '-z "$$WEBHOOK_URL"' in command and '-z "$$WEBHOOK_SECRET"' in command  # refuses to poll
        assert command.rstrip().endswith("exec python -m bot run")
        assert environment["BROADCAST_SENDER_IN_BOT"] == "false"
        assert environment["WEBHOOK_PORT"] == "8443"
    assert services["sender"]["command"] == ["python", "-m", "bot", "sender"]


def test_the_webhook_proxy_balances_over_both_bot_processes_on_their_port() -> None:
    conf = (ROOT / "deploy" / "webhook-proxy.conf").read_text(encoding="utf-8")
    assert re.findall(r"server (bot-\d):(\d+)", conf) == [("bot-1", "8443"), ("bot-2", "8443")]
    mounted = _services()["webhook"]["volumes"][0].split(":")[0]
    assert (ROOT / mounted).resolve() == (ROOT / "deploy" / "webhook-proxy.conf").resolve()
