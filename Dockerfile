# sipas-survey production image. Pinned base; runs as a non-root user.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FLASK_APP=wsgi \
    SURVEY_ENV=production

WORKDIR /app
RUN useradd --create-home --uid 10001 survey

COPY pyproject.toml README.md ./
COPY survey ./survey
RUN pip install .

COPY migrations ./migrations
COPY wsgi.py boot.sh ./
RUN mkdir -p /app/instance && chown survey:survey /app/instance

USER survey
EXPOSE 8000
ENTRYPOINT ["./boot.sh"]
