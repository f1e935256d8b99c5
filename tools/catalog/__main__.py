"""``python -m tools.catalog``: regenerate the generated blocks of every catalog page."""

import tempfile
from pathlib import Path

from examples.app import synthesize
from tools.catalog.pages import catalog_pages, render


def main() -> None:
    with tempfile.TemporaryDirectory() as outdir:
        app = synthesize(Path(outdir))
    for page in catalog_pages():
        text = page.read_text()
        fresh = render(text, app)
        if fresh != text:
            page.write_text(fresh)
            print(f"updated {page.relative_to(Path.cwd())}")


if __name__ == "__main__":
    main()
