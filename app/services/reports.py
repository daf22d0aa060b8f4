"""Reconciliation reports people look at: drift over the last runs as a picture."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ReconciliationRun


def drift_plot(session: Session, path: str | Path, *, last: int = 30) -> Path:
    """Write an SVG or PNG (by the file's extension) of diffs found and corrections applied per run."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file, on a server
    import matplotlib.pyplot as plt

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
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
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
    target = Path(path)
    fig.savefig(target)
    plt.close(fig)
    return target
