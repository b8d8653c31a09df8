#!/usr/bin/env python3
"""Validates every collection page and manifest a running Tessera serves, with the official
IIIF Presentation library's 2.1 reader (iiif_prezi.loader.ManifestReader).

    validate_presentation.py BASE_URL [APIKEY]

It crawls BASE_URL/collections/top, each classification collection and every page of each,
and every manifest they list; each document must read without error, and its @id must equal
the URL it was fetched from. Each canvas's @id must dereference to the same canvas, and its
image service's info.json must report the canvas's width and height. With APIKEY every
request carries it (the privileged view). Warnings are printed; any error exits 1.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from iiif_prezi.loader import ManifestReader

base = sys.argv[1].rstrip("/")
apikey = sys.argv[2] if len(sys.argv) > 2 else None
errors, warnings, counts = [], [], {"collection": 0, "manifest": 0, "canvas": 0}


def with_key(url):
    if not apikey:
        return url
    return url + ("&" if "?" in url else "?") + "apikey=" + urllib.parse.quote(apikey)


def fetch(url):
    with urllib.request.urlopen(with_key(url), timeout=30) as r:
        return json.loads(r.read().decode("utf-8"))


def validate(url, kind):
    try:
        doc = fetch(url)
    except (urllib.error.URLError, ValueError) as e:
        errors.append(f"{url}: cannot fetch: {e}")
        return None
    if doc.get("@id") != url:
        errors.append(f"{url}: @id is {doc.get('@id')!r}, not the URL it was fetched from")
    reader = ManifestReader(json.dumps(doc), version="2.1")
    try:
        reader.read()
    except Exception as e:  # the reader raises its own error types
        errors.append(f"{url}: iiif_prezi {kind} error: {e}")
        return None
    for w in reader.get_warnings():
        warnings.append(f"{url}: {str(w).strip()}")
    counts[kind] += 1
    return doc


def pages(index_url):
    doc = validate(index_url, "collection")
    if doc is None:
        return [], []
    subs = [c["@id"] for c in doc.get("collections", [])]
    manifests, nxt = [], doc.get("first")
    while nxt:
        page = validate(nxt, "collection")
        if page is None:
            break
        manifests += [m["@id"] for m in page.get("manifests", [])]
        nxt = page.get("next")
    return subs, manifests


subs, manifests = pages(f"{base}/collections/top")
for sub in subs:
    _, listed = pages(sub)
    missing = set(listed) - set(manifests)
    if missing:
        errors.append(f"{sub}: lists manifests the top collection does not: {sorted(missing)[:3]}")

for url in manifests:
    m = validate(url, "manifest")
    if m is None:
        continue
    for canvas in m["sequences"][0].get("canvases", []):
        counts["canvas"] += 1
        cid = canvas["@id"]
        try:
            if fetch(cid).get("@id") != cid:
                errors.append(f"{cid}: does not dereference to itself")
            svc = canvas["images"][0]["resource"]["service"]["@id"]
            info = fetch(svc + "/info.json")
        except (urllib.error.URLError, ValueError, KeyError, IndexError) as e:
            errors.append(f"{cid}: {e}")
            continue
        if (info.get("width"), info.get("height")) != (canvas["width"], canvas["height"]):
            errors.append(
                f"{cid}: canvas is {canvas['width']}x{canvas['height']}, "
                f"info.json of {svc} says {info.get('width')}x{info.get('height')}"
            )

view = "privileged" if apikey else "public"
print(f"presentation ({view} view): {counts['collection']} collection documents, "
      f"{counts['manifest']} manifests, {counts['canvas']} canvases checked; "
      f"{len(errors)} errors, {len(warnings)} warnings")
for w in warnings:
    print("  warning:", w)
for e in errors:
    print("  ERROR:", e)
sys.exit(1 if errors or counts["manifest"] == 0 else 0)
