"""``mmcheck scan -f html``: one self-contained page, escaped, and tested in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from mmcheck.render.html import render_html
from mmcheck.scan import scan
from mmcheck.stores.scanning import scan_paths
from tests import store_trees as st
from tests.browser import Browser, find_chromium
from tests.cli_helpers import run_cli

EVIL_MODEL = "<img src=x onerror=alert(1)>llava-7b.gguf"
EVIL_PROJ = "mmproj-\"'><script>alert(2)<!--.gguf"


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory, db: Any) -> dict[str, Path]:
    t = tmp_path_factory.mktemp("html")
    files = st.Files(db, t / "unique")
    home = t / "home"
    st.build_ollama(home / ".ollama" / "models", files)
    st.build_hf_cache(home / ".cache" / "huggingface" / "hub", files)
    st.build_lmstudio(home, files)
    evil = t / "evil"
    evil.mkdir()
    shutil.copyfile(files.path("vicuna-7b"), evil / EVIL_MODEL)
    shutil.copyfile(files.path("llava-7b-proj"), evil / EVIL_PROJ)
    shutil.copyfile(files.path("vicuna-13b"), evil / "llava-13b.gguf")
    return {"t": t, "home": home, "evil": evil}


@pytest.fixture(scope="module")
def store_page(trees: dict[str, Path], db: Any) -> tuple[Any, str]:
    res = scan_paths([], db=db, env={}, home=trees["home"])
    return res, render_html(res, root=trees["t"])


def test_the_page_is_self_contained(store_page: tuple[Any, str]) -> None:
    _, page = store_page
    assert page.startswith("<!DOCTYPE html>")
    assert re.search(r"\b(src|href)=", page) is None  # nothing to fetch: no src, no href
    assert "http://" not in page and "https://" not in page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None and "default-src 'none'" in csp.group(1) and "script-src 'sha256-" in csp.group(1)
    assert page.count("<script") == 2  # the data block and the page's own script


def test_file_names_are_escaped(trees: dict[str, Path], db: Any) -> None:
    page = render_html(scan([trees["evil"]], db=db), root=trees["evil"])
    assert "<img" not in page and "<script>alert" not in page and "<!--" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;llava-7b.gguf" in page
    data = page[page.index('id="mmcheck-data">') : page.index("</script>")]
    assert "<" not in data.split(">", 1)[1]  # the JSON block cannot close itself


def test_cli_writes_the_html_file(trees: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    r = run_cli("scan", trees["evil"], "-f", "html", "-o", out, "--exit-zero")
    assert r.code == 0, r.err
    assert out.read_text().startswith("<!DOCTYPE html>")


# ------------------------------------------------------------------------------------------------
# In a real browser
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = find_chromium()
    if exe is None:
        pytest.fail("no Chromium on PATH: `make test` installs Debian's chromium (the browser test is never skipped)")
    return exe


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Any:
    b = Browser(chromium, tmp_path / "profile")
    yield b
    b.close()


@pytest.mark.browser
def test_matrix_in_chromium(browser: Browser, store_page: tuple[Any, str], tmp_path: Path) -> None:
    res, page = store_page
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    browser.viewport(1280, 900)
    browser.open(path.as_uri())
    models = {p.model for p in res.pairs}
    projs = {p.mmproj for p in res.pairs}
    assert browser.js("document.querySelectorAll('tbody tr').length") == len(models)
    assert browser.js("document.querySelectorAll('thead th.col').length") == len(projs)
    assert browser.js("document.querySelectorAll('tbody td').length") == len(models) * len(projs)
    assert browser.js("document.querySelectorAll('td.cell').length") == len(res.pairs)
    for v in ("match", "likely-garbage", "mismatch"):
        want = sum(1 for p in res.pairs if p.report.verdict.value == v)
        assert want > 0
        assert browser.js(f"document.querySelectorAll('td.cell.v-{v}').length") == want, v
    assert browser.js("document.querySelectorAll('td.cell.chosen').length") == len(res.chosen())
    colour = browser.js("getComputedStyle(document.querySelector('td.v-match')).backgroundColor")
    assert colour == "rgb(218, 251, 225)"
    browser.screenshot(tmp_path / "report-1280.png")

    # click: the findings of that pair
    browser.js("document.querySelector('td.cell.v-mismatch').click()")
    details = browser.js("document.getElementById('details').textContent")
    assert "mismatch" in details and "MM101" in details
    # the filter by name
    browser.js("var q=document.getElementById('q');q.value='lmstudio-community';q.dispatchEvent(new Event('input'))")
    assert browser.js("document.querySelectorAll('tbody tr:not(.hidden)').length") == 1
    assert browser.js("document.querySelectorAll('thead th.col:not(.hidden)').length") == 1
    assert browser.js("document.getElementById('count').textContent") == f"1 of {len(models)} text models"
    # the filter by verdict: only mismatches
    browser.js("var q=document.getElementById('q');q.value='';q.dispatchEvent(new Event('input'));"
               "document.querySelectorAll('.bar input[type=checkbox]').forEach(function(b){"
               "if(b.value!=='mismatch'){b.checked=false;b.dispatchEvent(new Event('change'))}})")  # fmt: skip
    with_mismatch = {p.model for p in res.pairs if p.report.verdict.value == "mismatch"}
    assert browser.js("document.querySelectorAll('tbody tr:not(.hidden)').length") == len(with_mismatch)
    # the page fetched nothing but itself
    assert browser.requested_urls() == [path.as_uri()]

    # phone width: no horizontal page scroll outside the matrix's own scroller
    browser.js("document.querySelectorAll('.bar input[type=checkbox]').forEach(function(b){b.checked=true;"
               "b.dispatchEvent(new Event('change'))})")  # fmt: skip
    browser.viewport(390, 844, mobile=True)
    browser.open(path.as_uri())
    assert browser.js("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert browser.js("document.querySelector('.wrap').scrollWidth > document.querySelector('.wrap').clientWidth")
    shot = browser.screenshot(tmp_path / "report-390.png")
    assert shot.stat().st_size > 10_000


@pytest.mark.browser
def test_malicious_names_stay_text_in_chromium(
    browser: Browser, trees: dict[str, Path], db: Any, tmp_path: Path
) -> None:
    path = tmp_path / "evil.html"
    path.write_text(render_html(scan([trees["evil"]], db=db), root=trees["evil"]), encoding="utf-8")
    browser.viewport(1280, 900)
    browser.open(path.as_uri())
    assert browser.js("document.querySelectorAll('img').length") == 0
    assert browser.js("document.querySelectorAll('script').length") == 2
    assert browser.js("document.querySelector('tbody th').textContent").endswith("llava-7b.gguf")
    labels = browser.js("[].map.call(document.querySelectorAll('tbody th'),function(t){return t.textContent})")
    assert EVIL_MODEL in labels
    browser.js("document.querySelector('td.cell').click()")
    assert EVIL_PROJ in browser.js("document.getElementById('details').textContent")
    assert not any(ev.get("method") == "Page.javascriptDialogOpening" for ev in browser.events)
    browser.screenshot(tmp_path / "evil.png")
