"""Log line templates: realistic UbiOps-like text, rendered lazily from a template and a seq."""

from __future__ import annotations

from typing import Any

# (kind, text). Kinds let the generator pick a line that fits the moment (request start,
# user output, failure, build step...). Numbers are derived from the log's sequence number so
# a log always renders to the same text.
TEMPLATES: tuple[tuple[str, str], ...] = (
    ("request_start", "Received request {rid} for {dep} version {ver}"),
    ("request_start", "Starting processing of request {rid}"),
    ("user", "[Info] Prediction result 0.{n:05d}"),
    ("user", "Loaded model weights in {ms} ms"),
    ("user", "Input batch of {k} rows validated"),
    ("user", "✓ model loaded — température {t}°C, 推理完成 🚀"),
    ("user", "Processing row {n}: ok"),
    ("request_ok", "Request {rid} completed in {ms} ms"),
    ("request_ok", "Deployment call result (success): 0.{n:04d}"),
    ("request_fail", "[Error] Deployment call result (failed)"),
    (
        "traceback",
        "Traceback (most recent call last):\n"
        '  File "/home/deployment/deployment.py", line {k}, in request\n'
        "    prediction = self.model.predict(data['input'])\n"
        '  File "/opt/conda/lib/python3.11/site-packages/sklearn/base.py", line 512, in predict\n'
        "    raise ValueError(msg)\n"
        "ValueError: Input contains NaN, infinity or a value too large for dtype('float64').",
    ),
    ("request_cancel", "Request {rid} was cancelled by the user"),
    ("build", "Building environment {env} (build {n})"),
    ("build", "Step {k}/7 : RUN pip install -r requirements.txt"),
    ("build", "Successfully installed numpy-2.1.3 pandas-2.2.3 scikit-learn-1.5.2"),
    ("build_done", "Environment build finished successfully"),
    ("burst", "batch item {n} → score={t} «ok»"),
    ("system", "Instance {k} of {dep} scaled up (cold start)"),
    ("system", "Instance {k} of {dep} shut down after idle timeout"),
    ("late", "[Info] delayed flush from buffered logger #{n}"),
)

KIND_INDEXES: dict[str, tuple[int, ...]] = {}
for _index, (_kind, _text) in enumerate(TEMPLATES):
    KIND_INDEXES[_kind] = (*KIND_INDEXES.get(_kind, ()), _index)


def render_text(template: int, seq: int, meta: dict[str, Any]) -> str:
    """The `log` text of one log line."""
    return TEMPLATES[template][1].format(
        n=seq % 99_991,
        k=seq % 97 + 1,
        ms=seq % 4_000 + 7,
        t=f"{(seq % 400) / 10:.1f}",
        rid=meta.get("deployment_request_id") or meta.get("pipeline_request_id") or "-",
        dep=meta.get("deployment_name", "-"),
        ver=meta.get("deployment_version", "-"),
        env=meta.get("environment_name", "-"),
    )
