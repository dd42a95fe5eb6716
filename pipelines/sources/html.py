"""HTML page → article text, title and publication date (pure).

``trafilatura`` drops navigation, ads, related links and comments; its
``htmldate`` reads the date from the page's markup (``article:published_time``,
``<time datetime>``, JSON-LD, the URL). The original publication date is
preferred over a later modification date.

Two guards, both because a wrong publication date silently shifts every
"yesterday" and "on Thursday" of the article:

* reader comments are removed before ``htmldate`` looks, so a comment's
  ``<time>`` is never taken for the article's date;
* ``htmldate``'s extensive search of the body text is off: on a page without
  a dated markup it guesses from "© 2023" (→ 2023-01-01). Such a page gets no
  date, and year-less dates in it are refused unless ``--published`` is given.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from ..articles import Article
from .errors import SourceError

# trafilatura logs every page it finds thin at WARNING; our caller reports
# failures itself, one line per item.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


#: Containers of reader comments (WordPress, Disqus and most CMS themes name them so).
_COMMENTS = ("//*[contains(translate(@id, 'COMENT', 'coment'), 'comment') or "
             "contains(translate(@class, 'COMENT', 'coment'), 'comment') or "
             "contains(@id, 'disqus')]")


@dataclass(frozen=True)
class Page:
    """What the page itself says."""

    text: str
    title: str
    date: date | None
    url: str


def extract_page(html: bytes | str, *, name: str, url: str = "") -> Page:
    """The main text of a news page, without its boilerplate."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html, url=url or None, with_metadata=True, include_comments=False, include_images=False,
        favor_precision=True,  # a place named in a stray ad or teaser would become a false event
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    text = (document.text or "").strip() if document is not None else ""
    if not text:
        raise SourceError(f"{name}: no article text found on the page")
    return Page(text=text.replace("\r\n", "\n"), title=(document.title or "").strip(),
                date=publication_date(html, url), url=document.url or url)


def publication_date(html: bytes | str, url: str = "") -> date | None:
    """The page's own publication date from its markup, reader comments excluded."""
    import htmldate
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return None
    for node in tree.xpath(_COMMENTS):
        parent = node.getparent()
        if parent is not None:
            parent.remove(node)
    return _iso(htmldate.find_date(tree, url=url or None, original_date=True, extensive_search=False))


def _iso(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def page_article(page: Page, *, name: str, published: date | None = None, feed_date: date | None = None,
                 source: str | None = None, fallback_title: str = "", path: str = "") -> tuple[Article, str]:
    """The article, and a note saying which publication date was used and why.

    Precedence: an explicit ``--published``, then the page's own date, then the
    date of the feed item that linked it, else none (year-less dates are then
    refused, never guessed)."""
    if published is not None:
        said = f"the page says {page.date}" if page.date else "the page gives no date"
        when, note = published, f"{published} from --published ({said})"
    elif page.date is not None:
        when, note = page.date, f"{page.date} from the page"
    elif feed_date is not None:
        when, note = feed_date, f"{feed_date} from the feed item (the page gives no date)"
    else:
        when, note = None, "unknown (neither the page nor --published gives one)"
    title = page.title or fallback_title
    article = Article(text=page.text, source=source or title or name, title=title, url=page.url,
                      published=when, path=path)
    return article, f"{name}: published {note}"
