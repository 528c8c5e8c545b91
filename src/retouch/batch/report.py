"""What a batch did: counts, rates, failures with reasons, and the summary table."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REPORT_NAME", "BatchReport", "summary"]

REPORT_NAME = "retouch-report.json"
"""The report :func:`retouch.batch.run` writes into the output folder (unless told otherwise)."""


@dataclass
class BatchReport:
    """What a batch did; :meth:`to_json` is the report file."""

    input: str
    output: str
    recipe: dict[str, Any]
    recipe_fingerprint: str
    engine: str
    workers: int
    started: str
    seconds: float = 0.0
    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"done": 0, "skipped": 0, "failed": 0})
    redone: int = 0
    megapixels: float = 0.0
    failed: list[dict[str, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    workers_peak_rss_mb: dict[str, float] = field(default_factory=dict)
    worker_seconds: float = 0.0
    worker_cpu_seconds: float = 0.0
    workers_cpu_seconds: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    not_started: int = 0
    cleaned_temp_files: int = 0
    report_path: str | None = None
    report_error: str | None = None

    @property
    def images_per_second(self) -> float:
        return self.counts["done"] / self.seconds if self.seconds > 0 else 0.0

    @property
    def megapixels_per_second(self) -> float:
        return self.megapixels / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """No image failed, the batch was not interrupted and its report was written."""
        return not self.failed and not self.interrupted and not self.report_error

    def add(self, rec: dict[str, Any]) -> None:
        status = rec["status"]
        self.counts[status] = self.counts.get(status, 0) + 1
        if status == "failed":
            self.failed.append({"image": rec["key"], "error": rec.get("error") or "failed"})
        elif status == "skipped":
            reason = rec.get("reason", "skipped")
            self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if status == "done":
            self.megapixels += rec.get("megapixels") or 0.0
        self.worker_seconds += rec.get("seconds") or 0.0
        self.worker_cpu_seconds += rec.get("cpu_seconds") or 0.0
        if rec.get("pid") is not None:
            pid = str(rec["pid"])
            self.workers_peak_rss_mb[pid] = max(self.workers_peak_rss_mb.get(pid, 0.0), round(rec.get("peak_rss_mb") or 0.0, 1))
            self.workers_cpu_seconds[pid] = max(self.workers_cpu_seconds.get(pid, 0.0), round(rec.get("process_cpu_seconds") or 0.0, 3))

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "output": self.output,
            "engine": self.engine,
            "workers": self.workers,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "images": self.total,
            "counts": dict(self.counts),
            "redone": self.redone,
            "interrupted": self.interrupted,
            "not_started": self.not_started,
            "images_per_second": round(self.images_per_second, 3),
            "megapixels_per_second": round(self.megapixels_per_second, 3),
            "megapixels": round(self.megapixels, 3),
            "worker_seconds": round(self.worker_seconds, 3),
            "worker_cpu_seconds": round(self.worker_cpu_seconds, 3),
            "workers_peak_rss_mb": self.workers_peak_rss_mb,
            "cleaned_temp_files": self.cleaned_temp_files,
            "failed": sorted(self.failed, key=lambda r: r["image"]),
            "skipped": self.skipped,
            "recipe_fingerprint": self.recipe_fingerprint,
            "recipe": self.recipe,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def summary(report: BatchReport, *, max_failures: int = 20) -> Any:
    """A rich renderable: counts, rates and the failures with their reasons."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title="retouch batch", show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    c = report.counts
    table.add_row("done", f"[green]{c['done']}[/]" + (f" ({report.redone} redone: recipe or input changed)" if report.redone else ""))
    skip_text = f"{c['skipped']}"
    if report.skipped:
        skip_text += " (" + "; ".join(f"{n} {reason}" for reason, n in report.skipped.items()) + ")"
    table.add_row("skipped", Text(skip_text))
    table.add_row("failed", f"[red]{c['failed']}[/]" if c["failed"] else "0")
    if report.interrupted:
        table.add_row("interrupted", f"[yellow]{report.not_started} not started[/]: run the same command again to finish")
    table.add_row(
        "speed",
        f"{report.images_per_second:.2f} images/s, {report.megapixels_per_second:.2f} MP/s "
        f"over {report.seconds:.1f} s ({report.engine}, {report.workers} worker{'s' if report.workers != 1 else ''})",
    )
    if report.workers_peak_rss_mb:
        table.add_row("peak memory", f"{max(report.workers_peak_rss_mb.values()):.0f} MiB per worker (largest)")
    if report.report_path:
        table.add_row("report", Text(report.report_path))
    if report.report_error:
        table.add_row("report", Text(report.report_error, style="red"))
    parts: list[Any] = [table]
    if report.failed:
        fails = Table(title="failed", show_header=True, header_style="bold red", box=None)
        fails.add_column("image", no_wrap=True)
        fails.add_column("why")
        for r in sorted(report.failed, key=lambda r: r["image"])[:max_failures]:
            fails.add_row(Text(r["image"]), Text(r["error"]))
        parts.append(fails)
        if len(report.failed) > max_failures:
            parts.append(Text(f"… and {len(report.failed) - max_failures} more in the report"))
    return Group(*parts)
