"""The "Add article" checks: uploads judged by content, names only labels,
HTML made text, the year rule; and the panel in streamlit.testing writing
only the store."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import upload
from pipelines.config import PROJECT_ROOT
from pipelines.errors import DateError, InputError
from pipelines.store import read_events

LIMIT = 5 * 1024 * 1024
MAY_23 = date(2023, 5, 23)
REPORT = ("Raid on Kozinka\n\nOn 22 May 2023 armed groups crossed from Ukraine into Belgorod Oblast "
          "and fought in the village of Kozinka.\n")


def from_upload(data: bytes, name: str = "report.txt", published=MAY_23, max_bytes=LIMIT):
    return upload.article_from_upload(data, name, published=published, max_bytes=max_bytes)


@pytest.mark.parametrize(("data", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image, not text"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF, not text"),
    (b"PK\x03\x04\x14\x00\x06\x00", "ZIP archive"),
    (b"\x7fELF\x02\x01\x01\x00", "a program"),
    (b"Kozinka\x00\x00\x00\x01\x02binary", "binary file"),
    (b"Kozinka \xff\xfe\xfa not utf-8", "not UTF-8"),
    (bytes(range(1, 32)) * 20, "binary file"),
])
def test_binary_disguised_as_text_is_refused_by_content(data, message):
    with pytest.raises(InputError, match=message):
        from_upload(data, "innocent.txt")


def test_a_path_as_name_is_only_a_label(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    article = from_upload(REPORT.encode(), "../../etc/passwd.txt")
    assert article.path == "" and article.source == "Raid on Kozinka"
    untitled = from_upload(b"Fighting in Kozinka on 22 May 2023.", "../../etc/passwd.txt")
    assert untitled.source == "passwd.txt"
    with pytest.raises(InputError, match=r"^passwd\.txt: file is empty"):
        from_upload(b"", "../../etc/passwd.txt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("data", [b"", b"   \n\t  ", b"\xef\xbb\xbf"])
def test_empty_upload_is_refused(data):
    with pytest.raises(InputError, match="empty|has no text"):
        from_upload(data)


def test_oversize_upload_and_paste_are_refused_before_decoding():
    with pytest.raises(InputError, match="over the 1,000-byte limit"):
        from_upload(b"\xff" * 1001, max_bytes=1000)  # not even decoded
    with pytest.raises(InputError, match="pasted text: 1,002 bytes is over"):
        upload.article_from_paste("é" * 501, published=MAY_23, max_bytes=1000)
    assert from_upload(b"a" * 999 + b".", max_bytes=1000).text.startswith("aaa")


def test_html_upload_becomes_text_without_script_or_style():
    page = (b"<!DOCTYPE html><html><head><title>Raid on Kozinka &amp; Gora-Podol</title>"
            b"<style>p{color:red}</style><script>window.__pwned=1</script></head><body>"
            b"<nav>Home | World</nav><article><h1>Raid</h1><p>On 22 May 2023 armed groups entered "
            b"<b>Kozinka</b>.</p><script>document.write('x')</script><p>Tanks &lt;script&gt; seen "
            b"near Belgorod.</p></article><footer>(c) 2023</footer></body></html>")
    article = from_upload(page, "page.txt")  # content decides, not the extension
    assert article.title == article.source == "Raid on Kozinka & Gora-Podol"
    assert "window.__pwned" not in article.text and "document.write" not in article.text
    assert "color:red" not in article.text and "Home | World" not in article.text
    assert "On 22 May 2023 armed groups entered Kozinka." in article.text
    assert "Tanks <script> seen near Belgorod." in article.text  # an entity is text
    assert article.text.startswith("Raid\n\nOn 22 May")


def test_text_named_html_stays_text_and_a_quoted_tag_is_kept():
    text = b"<script>window.__pwned=1</script> was painted on a wall in Kozinka on 22 May 2023."
    article = from_upload(text, "report.html")
    assert article.text.startswith("<script>window.__pwned=1</script> was painted")
    pasted = upload.article_from_paste("<p>Kozinka</p> on 22 May 2023", published=None, max_bytes=LIMIT)
    assert pasted.text == "<p>Kozinka</p> on 22 May 2023"  # pasted text is never HTML
    assert pasted.source == upload.PASTED and pasted.published is None


def test_html_without_visible_text_is_refused():
    with pytest.raises(InputError, match="no visible text"):
        from_upload(b"<html><script>window.__pwned=1</script><style>x{}</style></html>")


def test_a_year_less_date_needs_the_publication_date():
    with pytest.raises(DateError, match=r"the year of \"22 May\.?\" is unknown; give the publication date"):
        upload.article_from_paste("Shelling in Kozinka on 22 May.", published=None, max_bytes=LIMIT)
    assert upload.article_from_paste("Shelling in Kozinka on 22 May.", published=MAY_23,
                                     max_bytes=LIMIT).published == MAY_23
    front = "---\npublished: 2023-05-23\n---\nShelling in Kozinka on 22 May."
    assert upload.article_from_paste(front, published=None, max_bytes=LIMIT).published == MAY_23


def test_html_to_text_survives_broken_markup():
    page = upload.html_to_text("<p>one<script>never</p>two</script><p>three<style>x")
    assert page.text == "one\n\nthree" and page.title == ""
    assert upload.looks_like_html("  <!-- c --> <P class=x>hi")
    assert not upload.looks_like_html("Kozinka <p> was")


# -- the panel, headless ----------------------------------------------------------

APP = PROJECT_ROOT / "dashboard" / "app.py"


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_pasting_an_article_adds_its_events_and_writes_only_the_store(monkeypatch, tmp_path):
    store = tmp_path / "store" / "events.gpkg"
    store.parent.mkdir()
    monkeypatch.setenv("EVENT_ATLAS_STORE", str(store))
    monkeypatch.delenv("EVENT_ATLAS_ONLINE_GEOCODER", raising=False)
    before_repo = {p for p in os.listdir(PROJECT_ROOT)}
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, at.exception
    assert "No events yet" in at.info[0].value

    at.sidebar.text_area[0].input(REPORT)
    at.sidebar.date_input[0].set_value(MAY_23)
    at.sidebar.button[0].click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    (done,) = at.sidebar.success
    assert "events added" in done.value
    places = set(read_events(str(store))["place"])
    assert {"Kozinka", "Belgorod Oblast"} <= places
    assert any("shown of" in m.value for m in at.markdown)  # the page shows them in the same run
    assert files_under(store.parent) <= {"events.gpkg", "events.gpkg.lock"}
    assert {p for p in os.listdir(PROJECT_ROOT)} == before_repo

    at.sidebar.text_area[0].input("Shelling in Kozinka on 22 May.")
    at.sidebar.button[0].click().run()
    (error,) = at.sidebar.error
    assert "give the publication date" in error.value.replace("\\", "")
