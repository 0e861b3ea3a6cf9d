#!/usr/bin/env python3
"""check_dom.py DOM.html RESULT.json -- check the report's DOM as a browser
rendered it (chromium --dump-dom) against the result it was drawn from:
every chart present with data, one line per run, one heatmap cell per type
and worker, one table row per run, nothing external.  Prints one line per
failed check and exits 1 when any failed."""
import json
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.kids, self.text = tag, dict(attrs), parent, [], ""

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def walk(self):
        yield self
        for k in self.kids:
            yield from k.walk()

    def all_text(self):
        return self.text + "".join(k.all_text() for k in self.kids)


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.kids.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text += data


def main():
    dom_file, result_file = sys.argv[1], sys.argv[2]
    t = Tree()
    t.feed(open(dom_file, encoding="utf-8").read())
    res = json.load(open(result_file, encoding="utf-8"))
    runs = [r["scheduler"] for r in res["runs"]]
    nw, nt = len(res["workers"]), len(res["types"])
    primary = next((i for i, s in enumerate(runs) if s == "hardware-aware"),
                   next((i for i, s in enumerate(runs) if s != "oracle"), 0))
    failed = []

    def check(cond, what):
        if not cond:
            failed.append(what)

    nodes = list(t.root.walk())
    charts = {}
    for n in nodes:
        if n.tag == "svg" and "data-chart" in n.attrs:
            charts.setdefault(n.attrs["data-chart"], []).append(n)

    def marks(svg, tag=None, cls="mark"):
        return [n for n in svg.walk() if cls in n.classes() and (tag is None or n.tag == tag)]

    for name in ("curves", "assignments", "efficiency", "thermal", "durations"):
        svgs = charts.get(name, [])
        check(len(svgs) == 1, "%d <svg data-chart=%s>, expected 1" % (len(svgs), name))
        if svgs:
            check(len(marks(svgs[0])) > 0, "chart %s has no marks" % name)

    if charts.get("curves"):
        lines = marks(charts["curves"][0], "polyline", "line")
        check(len(lines) == len(runs), "curves: %d lines, expected %d (one per run)" % (len(lines), len(runs)))
        check(sorted(l.attrs.get("data-run") for l in lines) == sorted(runs),
              "curves: lines are for %s, expected %s" % ([l.attrs.get("data-run") for l in lines], runs))
        for l in lines:
            check(len(l.attrs.get("points", "").split()) >= 2, "curves: line %s has < 2 points" % l.attrs.get("data-run"))
    if charts.get("efficiency"):
        cells = marks(charts["efficiency"][0], "rect", "cell")
        check(len(cells) == nt * nw, "efficiency: %d cells, expected %d types x %d workers" % (len(cells), nt, nw))
        filled = sum(v is not None for row in res["runs"][primary]["efficiency"] for v in row)
        got = len(marks(charts["efficiency"][0], "rect"))
        check(got == filled, "efficiency: %d coloured cells, expected %d non-null values" % (got, filled))
    if charts.get("assignments"):
        segs = marks(charts["assignments"][0], "rect")
        want = sum(v > 0 for row in res["runs"][primary]["assignments"] for v in row)
        check(len(segs) == want, "assignments: %d segments, expected %d non-zero (worker, type) counts" % (len(segs), want))
    others = charts.get("assignments-run", [])
    if nw <= 64:
        check(sorted(s.attrs.get("data-run") for s in others) == sorted(r for i, r in enumerate(runs) if i != primary),
              "assignments: small multiples for %s" % [s.attrs.get("data-run") for s in others])
    if charts.get("thermal"):
        lanes = marks(charts["thermal"][0], "path", "temp")
        check(len(lanes) == min(nw, 40), "thermal: %d lanes, expected %d" % (len(lanes), min(nw, 40)))
        thr = sum(len(w) for w in res["runs"][primary]["throttled"])
        got = len(marks(charts["thermal"][0], "rect", "throttle"))
        check(nw > 40 or got == thr, "thermal: %d throttled spans, expected %d" % (got, thr))
    if charts.get("durations"):
        dots = marks(charts["durations"][0], "circle")
        want = len(res["runs"][primary]["durations"])
        check(len(dots) == want, "durations: %d dots, expected %d" % (len(dots), want))
        check(len(marks(charts["durations"][0], "line", "ref")) == 1, "durations: no y = x line")

    # every chart reads at a glance: axis titles with units where there are axes
    for name, words in (("curves", ["tests finished", "(s)"]), ("assignments", ["tests placed"]),
                        ("thermal", ["time", "(s)"]), ("durations", ["expected duration (s)", "actual duration (s)"])):
        for svg in charts.get(name, []):
            text = svg.all_text()
            for w in words:
                check(w in text, "%s: no axis title containing %r" % (name, w))
    legends = [n for n in nodes if "legend" in n.classes()]
    check(len(legends) >= 5, "%d legends, expected one per chart" % len(legends))

    rows = [n for n in nodes if n.tag == "tr" and "run" in n.classes()]
    check(len(rows) == len(runs), "table: %d rows, expected %d" % (len(rows), len(runs)))
    names = [next((k for k in r.kids if k.tag == "td"), Node("td", [], None)).all_text() for r in rows]
    for s in runs:
        check(any(n == s or n.startswith(s) and n[len(s):] == "best" for n in names),
              "table: no row for %r (rows %s)" % (s, names))
    check(sum("best" in r.classes() for r in rows) == (1 if any(s != "oracle" for s in runs) else 0),
          "table: not exactly one best row")

    # self-contained: no script, no stylesheet link, nothing with a remote source
    for n in nodes:
        check(n.tag not in ("script", "link", "iframe", "img", "object", "embed"),
              "external or active element <%s>" % n.tag)
        for k, v in n.attrs.items():
            check(not (v and ("http:" in v or "https:" in v or "//" in v and k in ("src", "href"))),
                  "<%s %s=%r> points outside the file" % (n.tag, k, v))
        check(not any(k.startswith("on") for k in n.attrs), "<%s> has an event handler" % n.tag)

    for f in failed:
        print("DOM: " + f)
    print("DOM: %d charts, %d checks failed" % (len(charts), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
