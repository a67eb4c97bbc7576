# logitsviz as a container: `logitsviz app` on $PORT, with a health check on Streamlit's /_stcore/health.
#   docker build -t logitsviz .                          (add --build-arg WITH_LM=1 for the language-model page)
#   docker run -p 8501:8501 logitsviz                    (or -e PORT=8080 -p 8080:8080; limits: -e LOGITSVIZ_MAX_UPLOAD_MB=…)
FROM python:3.11-slim

ARG WITH_LM=0
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8501

RUN useradd --create-home --uid 1000 app
WORKDIR /srv/logitsviz

# the pinned requirements first: a code change does not reinstall them
COPY requirements.txt requirements-lm.txt ./
RUN pip install -r requirements.txt \
    && if [ "$WITH_LM" = "1" ]; then pip install -r requirements-lm.txt; fi

COPY pyproject.toml README.md ./
COPY logitsviz ./logitsviz
RUN pip install --no-deps . && rm -rf build

USER app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_stcore/health' % os.environ['PORT'], timeout=4)"
# exec: the server is the container's main process and receives `docker stop`'s SIGTERM
CMD ["sh", "-c", "exec logitsviz app --server.port \"$PORT\" --server.address 0.0.0.0"]
