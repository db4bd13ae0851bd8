"""README.md, CHANGELOG.md and docs/: every relative link and anchor resolves; README stays a user's page."""

import re

from conftest import ROOT

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def _pages():
    return [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def _anchors(path):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.+)$", text, re.M)}


def _links(path):
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    for m in LINK.finditer(text):
        target = m.group(1) or m.group(2)
        if not re.match(r"[a-z]+:", target):
            yield target


def test_every_relative_link_names_an_existing_file_and_heading():
    bad = []
    for page in _pages():
        for target in _links(page):
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                bad.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                bad.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not bad, "\n".join(bad)


def test_readme_is_a_short_page_that_links_every_doc():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300
    linked = {t.partition("#")[0] for t in _links(ROOT / "README.md")}
    for doc in (ROOT / "docs").glob("*.md"):
        assert f"docs/{doc.name}" in linked, f"README does not link docs/{doc.name}"
    assert "CHANGELOG.md" in linked


def test_readme_test_command_is_the_one_ci_runs():
    """.ci/run runs README's test command verbatim; the two must not drift apart."""
    command = 'python3 -m pip install -e ".[test,build]" && python3 -m pytest'
    assert command in (ROOT / "README.md").read_text(encoding="utf-8")
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
