"""The files a new user and a hosted Space rely on stay consistent with the package."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

from conftest import ROOT


def test_space_requirements_match_the_package_dependencies() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert "torch==2.13.0" in lines
    assert sorted(d for d in deps if not d.startswith("torch")) == sorted(x for x in lines if not x.startswith("torch"))


def test_readme_has_space_front_matter_and_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    front = readme.split("---")[1]
    assert re.search(r"^sdk: gradio$", front, re.M) and re.search(r"^app_file: app.py$", front, re.M)
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_dev_question_set_and_sample_article_ship_in_the_package() -> None:
    from newsqa.corpora import DATA, SAMPLE_ID
    from newsqa.evaluate import DEVSET

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["newsqa"]
    shipped = {p.resolve() for pattern in patterns for p in (ROOT / "src" / "newsqa").glob(pattern)}
    assert DEVSET.resolve() in shipped
    assert (DATA / f"{SAMPLE_ID}.txt").resolve() in shipped  # `newsqa demo` works from a wheel
    assert not list((ROOT / "bench").glob("*.jsonl"))  # bench/ reads the packaged copy


def test_html_pages_load_in_a_fresh_interpreter_with_the_declared_dependencies() -> None:
    # justext asks for lxml[html_clean], an extra that pip 23 does not install; without lxml_html_clean the first
    # HTML file failed with "ImportError: lxml.html.clean module is now a separate project lxml_html_clean".
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(re.match(r"lxml_html_clean\b", d) for d in deps)
    page = ROOT / "tests" / "data" / "ingest" / "news-page.html"
    script = ("import sys; from newsqa.ingest import load_paths; r = load_paths([sys.argv[1]]); "
              "print(len(r.articles), len(r.problems), r.articles[0].title if r.articles else '')")
    done = subprocess.run([sys.executable, "-c", script, str(page)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 0, done.stderr[-2000:]
    articles, problems, title = done.stdout.split(" ", 2)
    assert (articles, problems) == ("1", "0") and title.strip()
