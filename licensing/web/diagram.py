"""The workflow diagram, drawn from the application state machine itself, as inline SVG.

The edges come from django-fsm's transition table, so the picture cannot
drift from the code; only the boxes' places are laid out by hand (no
Graphviz needed on a laptop).
"""

from __future__ import annotations

from functools import cache
from html import escape

from licensing.models import Application, ApplicationStatus

BOX_W, BOX_H = 150, 40
POSITIONS = {
    ApplicationStatus.DRAFT: (20, 90),
    ApplicationStatus.UNDER_REVIEW: (230, 90),
    ApplicationStatus.INFORMATION_REQUESTED: (230, 220),
    ApplicationStatus.DISPUTED: (450, 220),
    ApplicationStatus.APPROVED: (670, 40),
    ApplicationStatus.PARTIALLY_APPROVED: (670, 160),
    ApplicationStatus.DENIED: (670, 280),
    ApplicationStatus.UNDER_APPEAL: (890, 160),
    ApplicationStatus.WITHDRAWN: (20, 220),
    ApplicationStatus.SUPERSEDED: (230, 330),
}
WIDTH, HEIGHT = 1060, 390


@cache
def _edges() -> tuple[tuple[str, str, str], ...]:
    field = Application._meta.get_field("status")
    edges = {
        (t.source, target, t.name)
        for t in field.get_all_transitions(Application)
        # A transition that returns its state (dismissing an appeal) may end in several.
        for target in getattr(t.target, "allowed_states", None) or [t.target]
        if t.source in POSITIONS and target in POSITIONS
    }
    return tuple(sorted(edges))


def _centre(state: str) -> tuple[float, float]:
    x, y = POSITIONS[state]
    return x + BOX_W / 2, y + BOX_H / 2


def _clip(x1: float, y1: float, x2: float, y2: float) -> tuple[float, float]:
    """Where the line from (x1, y1) to the centre (x2, y2) of a box enters the box."""
    dx, dy = x2 - x1, y2 - y1
    scales = []
    if dx:
        scales.append(abs((BOX_W / 2 + 4) / dx))
    if dy:
        scales.append(abs((BOX_H / 2 + 4) / dy))
    t = 1 - min(scales) if scales else 1
    return x1 + dx * t, y1 + dy * t


def workflow_svg(current: str) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="Workflow, current state {escape(current)}" class="workflow">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>',
    ]
    drawn: set[tuple[str, str]] = set()
    for source, target, name in _edges():
        if (source, target) in drawn:
            continue
        drawn.add((source, target))
        (x1, y1), (x2, y2) = _centre(source), _centre(target)
        # Offset a pair of opposite edges so both arrows show.
        offset = 8 if (target, source) in {(s, t) for s, t, _ in _edges()} else 0
        if offset:
            sign = 1 if source < target else -1
            x1, x2 = x1 + sign * offset, x2 + sign * offset
        sx, sy = _clip(x2, y2, x1, y1)
        ex, ey = _clip(x1, y1, x2, y2)
        parts.append(
            f'<line x1="{sx:.0f}" y1="{sy:.0f}" x2="{ex:.0f}" y2="{ey:.0f}" stroke="#555" '
            f'stroke-width="1.5" marker-end="url(#arrow)"><title>{escape(name)}</title></line>'
        )
    for state, (x, y) in POSITIONS.items():
        is_current = state == current
        fill, stroke, text = (
            ("#0b3d66", "#0b3d66", "#fff") if is_current else ("#fff", "#555", "#1b1b1b")
        )
        label = ApplicationStatus(state).label
        parts.append(
            f'<g class="state{" current" if is_current else ""}" data-state="{state}">'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{3 if is_current else 1.5}"/>'
            f'<text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 5:.0f}" text-anchor="middle" '
            f'font-size="14" fill="{text}" font-family="sans-serif">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
