from pathlib import Path

DOCS = Path("/app/docs")


def test_txt_files_use_american_spelling():
    intro = (DOCS / "intro.txt").read_text()
    theme = (DOCS / "guides" / "theme.txt").read_text()
    assert intro.startswith("Color matters. The color of a button")
    assert "changing colors later" in intro
    assert "COLOR names" in theme and "primary color is blue" in theme
    for path in DOCS.rglob("*.txt"):
        assert "colour" not in path.read_text().lower(), path


def test_markdown_is_untouched():
    assert (DOCS / "notes.md").read_text() == "This colour note is Markdown and must stay as it is.\n"


def test_replacement_count():
    assert Path("/app/replacements.txt").read_text().strip() == "7"
