"""``python -m nlu train | serve | evaluate QUESTIONS.yaml``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from nlu.settings import NluSettings


def _serve(settings: NluSettings, port: int, workers: int) -> int:
    from nlu.server import LocalRasaServer, current_model

    token = settings.rasa_token.get_secret_value()
    if not token:
        print("error: set RASA_TOKEN; the API is never served without an auth token", file=sys.stderr)
        return 2
    model = current_model(settings).model_path(settings.model_dir)
    if workers > 1:
        return _serve_many(settings, port, workers, token, model)
    server = LocalRasaServer(settings, port=port, token=token, model=model)
    print(f"serving {server.model.name} on http://127.0.0.1:{port} (Ctrl+C to stop)", flush=True)
    # exec: Rasa becomes this process, so signals and exit codes behave as expected.
    command = server.command()
    os.execve(command[0], command, _environment())
    return 0  # not reached


def _serve_many(settings: NluSettings, port: int, workers: int, token: str, model: Path) -> int:
    """N servers on consecutive ports, one Sanic worker each (so ``PUT /model`` reaches every one
    when sent to each URL); stopped together on Ctrl+C or SIGTERM."""
    import signal
    import threading

    from nlu.server import LocalRasaServer

    servers = [LocalRasaServer(settings, port=port + i, token=token, model=model) for i in range(workers)]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        for server in servers:
            server.start()
        urls = ",".join(server.url for server in servers)
        print(f"serving {model.name} on {workers} servers; set RASA_URL={urls} (Ctrl+C to stop)", flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.stop()
    return 0


def _environment() -> dict[str, str]:
    from nlu.training import rasa_environment

    return rasa_environment()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlu", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train the Rasa model and calibrate thresholds")
    train.add_argument("--force", action="store_true", help="train even if nothing changed")
    serve = commands.add_parser("serve", help="rasa run --enable-api on 127.0.0.1 with RASA_TOKEN")
    serve.add_argument("--port", type=int, default=5005)
    serve.add_argument("--workers", type=int, default=1, help="servers on consecutive ports from --port")
    evaluate = commands.add_parser("evaluate", help="accuracy of ours and two baselines")
    evaluate.add_argument("questions", type=Path)
    evaluate.add_argument("--no-baselines", action="store_true")
    evaluate.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    settings = NluSettings()
    if args.command == "train":
        from nlu.training import main_train

        return main_train(settings, args.force)
    if args.command == "serve":
        return _serve(settings, args.port, max(1, args.workers))
    from nlu.evaluate import main_evaluate

    return main_evaluate(settings, args.questions, not args.no_baselines, args.json)


if __name__ == "__main__":
    sys.exit(main())
