"""Issue 12, defect 19: a newcomer learns that printing Chinese needs fonts, and CI installs them."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_says_printing_chinese_needs_fonts_noto_cjk() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "apt-get install fonts-noto-cjk" in readme


def test_ci_installs_the_chinese_fonts_with_chromium() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install = next(line for line in script.splitlines() if "apt-get install" in line)
    assert "chromium" in install and "fonts-noto-cjk" in install
