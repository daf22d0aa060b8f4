"""Reconciliation reports people look at: the last runs, and drift over them as a picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ReconciliationRun


def drift_plot(
    session: Session, target: str | Path | BinaryIO, *, last: int = 30, fmt: str | None = None
) -> Path | BinaryIO:
    """Draw diffs found and corrections applied per run, as SVG or PNG.

    `target` is a path (the format follows its extension unless `fmt` says otherwise) or a binary file object
    (SVG unless `fmt` says otherwise), e.g. a BytesIO a web endpoint answers with. Returns the path or the file.
    """
    # A bare Figure, not pyplot: no global figure registry, no backend switch, so the ops API can draw it from
    # several threads of one gunicorn worker at once.
    from matplotlib.figure import Figure

    runs = list(
        reversed(
            session.scalars(
                select(ReconciliationRun)
                .where(ReconciliationRun.kind == "inventory", ReconciliationRun.status == "done")
                .order_by(ReconciliationRun.id.desc())
                .limit(last)
            ).all()
        )
    )
    labels = [f"#{r.id} {r.run_date:%m-%d}" for r in runs]
    fig = Figure(figsize=(8, 3.2), dpi=100)
    ax = fig.subplots()
    ax.plot(labels, [r.diffs_found for r in runs], marker="o", label="diffs found")
    ax.plot(labels, [r.corrections_applied for r in runs], marker="s", label="corrections applied")
    for index, run in enumerate(runs):
        if run.alert:
            ax.annotate(
                "alert",
                (index, run.diffs_found),
                textcoords="offset points",
                xytext=(0, 8),
                ha="center",
                color="crimson",
            )
    ax.set_title(f"Inventory drift, last {len(runs)} reconciliation run(s)")
    ax.set_ylabel("SKU x location")
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.margins(y=0.15)
    fig.tight_layout()
    if isinstance(target, str | Path):
        path = Path(target)
        fig.savefig(path, format=fmt)
        return path
    fig.savefig(target, format=fmt or "svg")
    return target


def recent_runs(session: Session, *, limit: int = 30) -> list[dict[str, Any]]:
    """The last reconciliation runs of every kind, newest first, as the ops API and console show them."""
    runs = session.scalars(select(ReconciliationRun).order_by(ReconciliationRun.id.desc()).limit(limit)).all()
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "trigger": r.trigger,
            "status": r.status,
            "dry_run": r.dry_run,
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "skus_compared": r.skus_compared,
            "diffs_found": r.diffs_found,
            "corrections_applied": r.corrections_applied,
            "orders_checked": r.orders_checked,
            "orders_healed": r.orders_healed,
            "mismatches": r.mismatches,
            "alert": r.alert,
        }
        for r in runs
    ]
