# syntax=docker/dockerfile:1
# One image for every service of docker-compose.yml: Python 3.11 with .venv (the assistant and its
# tools, from requirements.txt) and Python 3.10 with .venv-rasa (Rasa 3.6 runs only on 3.8-3.10,
# from nlu/requirements.txt).
#
# Both interpreters are the official images' builds for the same Debian release (bookworm), so
# they link against the same system libraries. Python 3.10's files all carry its version in their
# names (bin/python3.10, lib/python3.10/, lib/libpython3.10.so.1.0, include/python3.10/): copied
# into /usr/local of the 3.11 image they sit where 3.10 was built to live and overwrite nothing of
# 3.11 (python3, pip, libpython3.11 stay as they are).
FROM python:3.10-slim-bookworm AS python310

FROM python:3.11-slim-bookworm

COPY --from=python310 /usr/local/bin/python3.10 /usr/local/bin/python3.10
COPY --from=python310 /usr/local/lib/python3.10 /usr/local/lib/python3.10
COPY --from=python310 /usr/local/lib/libpython3.10.so.1.0 /usr/local/lib/libpython3.10.so.1.0
COPY --from=python310 /usr/local/include/python3.10 /usr/local/include/python3.10
RUN ldconfig \
    && python3.10 -c "import ssl, sqlite3, ctypes, venv, ensurepip; print('python3.10 ok')" \
    && python3.11 -c "import ssl, sqlite3, venv; print('python3.11 ok')"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app \
    PATH=/app/.venv/bin:$PATH \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2

RUN useradd --create-home --uid 1000 assistant \
    && mkdir /app && chown assistant:assistant /app
USER assistant
WORKDIR /app

# The environments first (a layer each, rebuilt only when their requirements change).
COPY --chown=assistant:assistant requirements.txt ./
RUN python3.11 -m venv .venv && .venv/bin/pip install -r requirements.txt && touch .venv/.installed
COPY --chown=assistant:assistant nlu/requirements.txt nlu/requirements.txt
RUN python3.10 -m venv .venv-rasa && .venv-rasa/bin/pip install -r nlu/requirements.txt && touch .venv-rasa/.installed

COPY --chown=assistant:assistant . .
# Mount points of the compose file's volumes: created here so the volumes belong to 'assistant'.
RUN mkdir -p nlu/models build data

CMD ["python", "-m", "bot", "run"]
