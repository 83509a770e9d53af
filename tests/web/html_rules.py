"""WCAG 2.1 AA rules a page's HTML can be checked against without a browser: a small tree built
with the standard library's parser, and `problems(html)`, one line per broken rule.

What a browser is needed for (focus order, contrast as drawn, reflow) is in test_browser.py
and test_contrast.py; this guards what a screen-reader or keyboard user meets in the markup.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
CONTROLS = {"input", "select", "textarea"}
NO_LABEL_NEEDED = {"hidden", "submit", "button", "reset", "image"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: "Node | None"
    line: int = 0
    children: list["Node | str"] = field(default_factory=list)

    def text(self) -> str:
        raw = "".join(c if isinstance(c, str) else c.text() for c in self.children)
        return " ".join(raw.split())

    def walk(self):  # type: ignore[no-untyped-def]
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def inside(self, tag: str) -> bool:
        node = self.parent
        while node is not None:
            if node.tag == tag:
                return True
            node = node.parent
        return False


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current, self.getpos()[0])
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current, self.getpos()[0])
        self.current.children.append(node)

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Node:
    tree = _Tree()
    tree.feed(html)
    tree.close()
    return tree.root


def accessible_name(node: Node, by_id: dict[str, Node]) -> str:
    if node.attrs.get("aria-label"):
        return node.attrs["aria-label"]
    if node.attrs.get("aria-labelledby"):
        parts = node.attrs["aria-labelledby"].split()
        return " ".join(by_id[i].text() for i in parts if i in by_id)
    alts = [n.attrs.get("alt", "") for n in node.walk() if n.tag == "img"]
    return " ".join([node.text(), *alts]).strip() or node.attrs.get("title", "")


def page_title(html: str) -> str:
    titles = [n for n in parse(html).walk() if n.tag == "title" and not n.inside("svg")]
    return titles[0].text() if titles else ""


def problems(html: str) -> list[str]:
    nodes = list(parse(html).walk())
    found: list[str] = []
    by_id: dict[str, Node] = {}
    for n in nodes:
        if "id" in n.attrs:
            if n.attrs["id"] in by_id:
                found.append(f"id {n.attrs['id']!r} used twice (line {n.line})")
            by_id[n.attrs["id"]] = n

    # Language, title, landmarks, skip link (3.1.1, 2.4.2, 1.3.1, 2.4.1).
    if not any(n.tag == "html" and n.attrs.get("lang") == "nl" for n in nodes):
        found.append('<html> lacks lang="nl"')
    titles = [n for n in nodes if n.tag == "title" and not n.inside("svg")]
    if len(titles) != 1 or not titles[0].text():
        found.append("the page has no single, non-empty <title>")
    signed_in = any(n.attrs.get("action") == "/afmelden" for n in nodes)
    for landmark in ("header", "main", *(["nav"] if signed_in else [])):
        if not any(n.tag == landmark for n in nodes):
            found.append(f"no <{landmark}> landmark")
    skip = [n for n in nodes if n.tag == "a" and "skip-link" in n.attrs.get("class", "")]
    if not skip or skip[0].attrs.get("href", "#")[1:] not in by_id:
        found.append("no skip link to the main content")

    # Headings: one h1, no level skipped, none empty (1.3.1, 2.4.6).
    headings = [n for n in nodes if re.fullmatch(r"h[1-6]", n.tag)]
    if sum(1 for h in headings if h.tag == "h1") != 1:
        found.append(f"{sum(1 for h in headings if h.tag == 'h1')} <h1> elements, not one")
    level = 0
    for h in headings:
        if int(h.tag[1]) > level + 1:
            found.append(f"heading jumps from h{level} to {h.tag}: {h.text()[:50]!r}")
        if not h.text():
            found.append(f"empty {h.tag} (line {h.line})")
        level = int(h.tag[1])

    # Form controls: a programmatic name, and references that resolve (1.3.1, 4.1.2, 3.3.2).
    label_for = {n.attrs.get("for") for n in nodes if n.tag == "label"}
    for n in nodes:
        if n.tag in CONTROLS and n.attrs.get("type", "text") not in NO_LABEL_NEEDED:
            named = (
                n.attrs.get("id") in label_for
                or n.attrs.get("aria-label")
                or n.attrs.get("aria-labelledby")
                or n.inside("label")
            )
            if not named:
                found.append(f"<{n.tag} name={n.attrs.get('name')!r}> has no label (line {n.line})")
        for attr in ("aria-describedby", "aria-labelledby", "for"):
            for ref in n.attrs.get(attr, "").split():
                if ref not in by_id:
                    found.append(f"{attr}={ref!r} points at nothing (line {n.line})")
        if n.tag == "label" and n.text().endswith("*") and n.attrs.get("for") in by_id:
            control = by_id[n.attrs["for"]]
            if "required" not in control.attrs and control.attrs.get("aria-required") != "true":
                found.append(f"{n.text()!r} is marked * but its control is not required")
        if n.attrs.get("aria-invalid") == "true" and not n.attrs.get("aria-describedby"):
            found.append(f"<{n.tag} name={n.attrs.get('name')!r}> is invalid without saying why")

    # Buttons and links: a name; the same link text not leading to different places (2.4.4).
    targets: dict[str, set[str]] = {}
    for n in nodes:
        if n.tag == "button" and not accessible_name(n, by_id):
            found.append(f"button without a name (line {n.line})")
        if n.tag == "a" and "href" in n.attrs:
            name = accessible_name(n, by_id)
            if not name:
                found.append(f"link to {n.attrs['href']} has no text")
            targets.setdefault(name.lower(), set()).add(n.attrs["href"])
            href = n.attrs["href"]
            if href.startswith("#") and len(href) > 1 and href[1:] not in by_id:
                found.append(f"in-page link {href} points at nothing")
    for name, hrefs in targets.items():
        if len(hrefs) > 1 and name in {"hier", "bekijk", "meer", "open", "details", "link"}:
            found.append(f"link text {name!r} leads to {len(hrefs)} different places")

    # Images and charts: a text alternative (1.1.1).
    for n in nodes:
        if n.tag == "img" and "alt" not in n.attrs:
            found.append(f"<img> without alt (line {n.line})")
        hidden = n.attrs.get("aria-hidden") == "true"
        if (
            n.tag == "svg"
            and not hidden
            and not (n.attrs.get("role") == "img" and accessible_name(n, by_id))
        ):
            found.append(f"<svg> without role=img and a name (line {n.line})")

    # Tables: a name (a screen reader's table list reads it) and header cells that say what
    # they head (1.3.1).
    for n in nodes:
        if n.tag == "table":
            named = any(c.tag == "caption" and c.text() for c in n.walk())
            if not (named or n.attrs.get("aria-label") or n.attrs.get("aria-labelledby")):
                found.append(f"table without a caption (line {n.line})")
            cells = [c for c in n.walk() if c.tag == "th"]
            if not cells:
                found.append(f"table without header cells (line {n.line})")
            for th in cells:
                if th.attrs.get("scope") not in ("col", "row", "colgroup", "rowgroup"):
                    found.append(f"<th> {th.text()[:30]!r} without scope (line {th.line})")
            # Reflow (1.4.10): a table wider than a 320 px screen scrolls in a region of its
            # own, which the keyboard reaches and its caption names (test_browser.py checks
            # the scrolling; this, that no table is left out).
            region = n.parent
            caption = next((c for c in n.walk() if c.tag == "caption"), None)
            if not (
                region is not None
                and region.tag == "div"
                and "table-scroll" in region.attrs.get("class", "").split()
                and region.attrs.get("role") == "region"
                and region.attrs.get("tabindex") == "0"
                and caption is not None
                and caption.attrs.get("id")
                and region.attrs.get("aria-labelledby") == caption.attrs["id"]
            ):
                found.append(f"table not in a scroll region named by its caption (line {n.line})")

    # Status and error messages: announced (4.1.3).
    for n in nodes:
        classes = n.attrs.get("class", "").split()
        if "notice" in classes and n.attrs.get("role") not in ("status", "alert", "note"):
            found.append(f"notice without role=status (line {n.line})")
        if "error-summary" in classes and n.attrs.get("role") != "alert":
            found.append(f"error summary without role=alert (line {n.line})")
    return found
