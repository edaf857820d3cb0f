FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY jobs jobs
COPY config config
COPY persistence persistence
COPY reports reports
COPY prompts prompts
COPY routing routing
COPY providers providers
COPY validation validation
COPY tasks tasks
COPY workers workers
COPY migrations migrations
COPY cli cli
COPY simulator simulator
# The fleet's image installs no simulator server; the compose simulator service builds with
# EXTRAS=[sim] (Starlette and uvicorn).
ARG EXTRAS=""
RUN pip install --no-cache-dir ".${EXTRAS}"
USER nobody
