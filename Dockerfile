FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY jobs jobs
COPY routing routing
COPY providers providers
COPY validation validation
COPY tasks tasks
COPY workers workers
COPY migrations migrations
COPY cli cli
RUN pip install --no-cache-dir .
USER nobody
