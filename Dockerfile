FROM python:3.11-slim
WORKDIR /srv/shopsync
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY app app
COPY tasks tasks
COPY netsuite_client netsuite_client
COPY shopify_client shopify_client
COPY schemas schemas
COPY simulators simulators
COPY bench bench
COPY beat_schedule.py Procfile ./
RUN pip install . && useradd --system --uid 10001 shopsync
USER shopsync
