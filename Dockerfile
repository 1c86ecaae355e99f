# eval-agent itself as an image. It drives the host's Docker engine through its socket:
#   make agent-image
#   docker run --rm -it -v /var/run/docker.sock:/var/run/docker.sock \
#     -v "$PWD:$PWD" -w "$PWD" -e OPENAI_API_KEY eval-agent:0.1.0 run "REQUEST"
# The workspace is mounted at the same path as on the host, because the sandbox container the
# agent starts is a sibling on the host's engine and bind-mounts that host path.
# The build installs from wheels made beforehand (`make agent-image` runs `pip wheel`), so it needs
# no network; BASE defaults to python:3.11-slim, and any Debian image with python3-venv works.
ARG BASE=python:3.11-slim
FROM ${BASE}
COPY build/wheels /tmp/wheels
RUN python3 -m venv /opt/eval-agent \
 && /opt/eval-agent/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels eval-agent \
 && rm -rf /tmp/wheels
ENV PATH=/opt/eval-agent/bin:$PATH \
    EVAL_AGENT_HOME=/data
VOLUME /data
ENTRYPOINT ["eval-agent"]
CMD ["--help"]
