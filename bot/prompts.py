"""All user-facing Dutch text and LLM prompts, rendered from Jinja2 templates in `prompts/`.

Templates live in the repository's `prompts/` folder, next to the `bot` package (the project is
installed in place, also in the container). A missing template or variable is an error, never an
empty string.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = ["PROMPTS_DIR", "render", "template_names"]

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"

_env = Environment(
    loader=FileSystemLoader(PROMPTS_DIR),
    undefined=StrictUndefined,
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def render(name: str, **context: object) -> str:
    """Render `prompts/<name>` with `context`; `.html.j2` templates escape their values."""
    return _env.get_template(name).render(**context).strip()


def template_names() -> list[str]:
    """Every template shipped in `prompts/`."""
    return sorted(p.name for p in PROMPTS_DIR.glob("*.j2"))
