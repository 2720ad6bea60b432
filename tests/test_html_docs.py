"""genlab.course.html_docs (make docs): pages with a button bar, MathJax served locally, an index;
and, where Chromium is installed, scripts/check_rendered_math.py proves the formulas typeset offline."""

import importlib.util
import re

import pytest
from nbconvert import HTMLExporter
import nbformat

from genlab import paths
from genlab.course import html_docs, notebook_runner

NOTEBOOK = paths.REPO_ROOT / "notebooks" / "08_evaluating_gans.ipynb"  # many formulas, inline and display


def _checker():
    spec = importlib.util.spec_from_file_location("check_rendered_math",
                                                  paths.REPO_ROOT / "scripts" / "check_rendered_math.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    assert html_docs.build([NOTEBOOK], out, execute=False) == []
    return out


def test_page_has_the_button_bar_local_mathjax_and_no_cdn_script(rendered):
    page = (rendered / NOTEBOOK.with_suffix(".html").name).read_text()
    assert f'href="{notebook_runner.colab_url(NOTEBOOK.name)}">Open in Colab' in page
    assert f'href="{notebook_runner.source_url(NOTEBOOK.name)}">View source' in page
    assert f'href="{NOTEBOOK.name}">Download notebook' in page
    assert '<script src="mathjax/MathJax.js?config=' in page
    assert not re.findall(r'<script[^>]+src="https?://', page), "no script from the network"
    assert (rendered / "mathjax" / "MathJax.js").is_file()
    assert nbformat.read(rendered / NOTEBOOK.name, as_version=4).cells == nbformat.read(NOTEBOOK, 4).cells


def test_index_links_every_page_by_its_title(rendered):
    index = (rendered / "index.html").read_text()
    title = html_docs.title(nbformat.read(NOTEBOOK, as_version=4))
    assert f'<a href="{NOTEBOOK.with_suffix(".html").name}">' in index and title.split(":")[0] in index


def test_missing_notebook_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no such notebook: nope.ipynb"):
        html_docs.main(["nope.ipynb", "--out", str(tmp_path)])


@pytest.mark.skipif(_checker().find_browser() is None, reason="Chromium is not installed (apt-get install chromium)")
def test_formulas_are_typeset_offline_in_headless_chromium(rendered, tmp_path):
    checker = _checker()
    passed, message = checker.check(rendered / NOTEBOOK.with_suffix(".html").name)
    assert passed, message
    # The same notebook with nbconvert's default (MathJax from a CDN) fails offline: the check can fail.
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(NOTEBOOK, as_version=4))
    (tmp_path / "cdn.html").write_text(body)
    passed, message = checker.check(tmp_path / "cdn.html")
    assert not passed and "raw formula" in message


@pytest.mark.skipif(_checker().find_browser() is None, reason="Chromium is not installed (apt-get install chromium)")
def test_primes_and_accents_typeset_with_the_wheels_fonts_and_a_page_without_math_passes(tmp_path):
    """The wheel has STIX-Web fonts only; with MathJax's default (TeX fonts) these were processing errors."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Fonts\n\n$$w' = \\bar w + \\psi\\,(w - \\bar w)$$ and $\\vec v'$, $p(s')$."),
    ])
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# No formulas\n\nJust text.")])
    nbformat.write(notebook, tmp_path / "fonts.ipynb")
    nbformat.write(plain, tmp_path / "plain.ipynb")
    out = tmp_path / "docs"
    assert html_docs.build([tmp_path / "fonts.ipynb", tmp_path / "plain.ipynb"], out, execute=False) == []
    checker = _checker()
    for page in ("fonts.html", "plain.html"):
        passed, message = checker.check(out / page)
        assert passed, message

