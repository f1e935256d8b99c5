"""The generated blocks of the catalog pages match the templates: else run `make catalog`."""

import pytest

from examples.app import REFERENCE_STACKS, SynthesizedApp
from tools.catalog.pages import COMMAND, catalog_pages, render, stack_keys

PAGES = catalog_pages()


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_generated_blocks_are_current(page, reference_app: SynthesizedApp) -> None:
    text = page.read_text()
    assert render(text, reference_app) == text, f"{page.name} is stale: run `{COMMAND}`"


def test_every_reference_stack_has_a_catalog_page() -> None:
    documented = [key for page in PAGES for key in stack_keys(page.read_text())]
    assert sorted(documented) == sorted(REFERENCE_STACKS)
