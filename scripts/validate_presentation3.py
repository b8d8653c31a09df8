#!/usr/bin/env python3
"""Validates every Presentation 3.0 document a running Tessera serves against the IIIF
Presentation 3.0 JSON Schema (the schema of the official IIIF presentation validator).

    validate_presentation3.py --schema SCHEMA.json BASE_URL [APIKEY]

It crawls BASE_URL/collections/3/top and the hue collections (/collections/3/hue/{hue}, which
list whatever colours the server knows so far), every part of each, and every manifest they
list. Collections, manifests, annotation pages and annotations are validated against the
schema's root (which accepts exactly those types); canvases, which the root does not accept
alone, against its Canvas class. Each document's `id` must equal the URL it was fetched from,
every `id` on the server that is not an Image API URL must dereference (a canvas, an annotation
page, an annotation; an id with a fragment must be held by the document it names), and each
manifest must be listed once. Each canvas's Image API 3.0 and 2 services must answer an
info.json of the canvas's size. With APIKEY every request carries it (the privileged view).
Prints counts; any error exits 1, as does finding no manifest.
"""
import argparse
import json
import urllib.error
import urllib.parse
import urllib.request

import jsonschema

# The hues of src/colors/hue.rs (Hue::ALL), as the collections' URLs write them.
HUES = ["red", "orange", "yellow", "green", "blue", "violet", "brown", "grey", "black", "white"]
PROFILE3 = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'

parser = argparse.ArgumentParser()
parser.add_argument("--schema", required=True)
parser.add_argument("base")
parser.add_argument("apikey", nargs="?")
args = parser.parse_args()
base = args.base.rstrip("/")

with open(args.schema, encoding="utf-8") as f:
    schema = json.load(f)
checker = jsonschema.Draft7Validator.FORMAT_CHECKER
root_validator = jsonschema.Draft7Validator(schema, format_checker=checker)
# The same schema with its root accepting one class only: a Canvas (which the root does not
# accept), or the class a document says it is, whose errors say more than the root's "not
# valid under any of the given schemas".
CLASSES = {"Collection": "collection", "Manifest": "manifest", "Canvas": "canvas",
           "AnnotationPage": "annotationPage", "Annotation": "annotation"}
class_validators = {
    kind: jsonschema.Draft7Validator(
        {**schema, "oneOf": [{"$ref": f"#/classes/{name}"}]}, format_checker=checker
    )
    for kind, name in CLASSES.items()
}

errors = []
counts = {k: 0 for k in ["Collection", "Manifest", "Canvas", "AnnotationPage", "Annotation"]}
counts["ids"] = 0
counts["services"] = 0


def with_key(url):
    if not args.apikey:
        return url
    return url + ("&" if "?" in url else "?") + "apikey=" + urllib.parse.quote(args.apikey)


def fetch(url, accept=None):
    req = urllib.request.Request(with_key(url))
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers, json.loads(r.read().decode("utf-8"))


def schema_errors(doc, kind):
    """Why `doc`, a `kind`, does not validate: against the schema's root, or for a Canvas its
    Canvas class; `None` when it does."""
    validator = class_validators["Canvas"] if kind == "Canvas" else root_validator
    if validator.is_valid(doc):
        return None
    found = list(class_validators[kind].iter_errors(doc)) or list(validator.iter_errors(doc))
    # The deepest leaf error: "oneOf"/"allOf" failures at the top say only that nothing matched.
    best, stack = None, found
    while stack:
        e = stack.pop()
        if e.context:
            stack.extend(e.context)
        elif best is None or len(e.absolute_path) > len(best.absolute_path):
            best = e
    where = "/".join(str(p) for p in best.absolute_path) or "(root)"
    return f"{where}: {best.message[:300]}"


def ids(v, out):
    """Every (id, type) pair of a document, `@id`/`@type` included."""
    if isinstance(v, dict):
        i, t = v.get("id", v.get("@id")), v.get("type", v.get("@type"))
        if isinstance(i, str) and isinstance(t, str):
            out.append((i, t))
        for x in v.values():
            ids(x, out)
    elif isinstance(v, list):
        for x in v:
            ids(x, out)
    return out


def document(url, kind):
    """Fetches and checks one document: JSON, CORS, Vary, `id` == URL, `type`, schema."""
    try:
        headers, doc = fetch(url)
    except (urllib.error.URLError, ValueError) as e:
        errors.append(f"{url}: cannot fetch: {e}")
        return None
    if headers.get("Access-Control-Allow-Origin") != "*":
        errors.append(f"{url}: Access-Control-Allow-Origin is not *")
    if "Accept" not in ",".join(headers.get_all("Vary") or []):
        errors.append(f"{url}: no Vary: Accept")
    if doc.get("id") != url:
        errors.append(f"{url}: id is {doc.get('id')!r}, not the URL it was fetched from")
    if doc.get("type") != kind:
        errors.append(f"{url}: type is {doc.get('type')!r}, not {kind}")
    problem = schema_errors(doc, kind)
    if problem:
        errors.append(f"{url}: schema: {problem}")
    counts[kind] += 1
    return doc


def crawl(start, manifests, seen):
    queue = [start]
    while queue:
        url = queue.pop(0)
        if url in seen:
            errors.append(f"{url}: listed twice")
            continue
        seen.add(url)
        doc = document(url, "Collection")
        if doc is None:
            continue
        for item in doc.get("items", []):
            if item.get("type") == "Collection":
                queue.append(item["id"])
            elif item.get("type") == "Manifest":
                manifests.append(item["id"])


manifests, seen = [], set()
crawl(f"{base}/collections/3/top", manifests, seen)
listed_by_top = len(manifests)
for hue in HUES:
    crawl(f"{base}/collections/3/hue/{hue}", manifests, seen)
unique = list(dict.fromkeys(manifests))
if len(manifests[:listed_by_top]) != len(set(manifests[:listed_by_top])):
    errors.append("the top collection's tree lists a manifest more than once")

manifest_docs = []
for url in unique:
    m = document(url, "Manifest")
    if m is None:
        continue
    manifest_docs.append(m)
    if not m.get("items"):
        errors.append(f"{url}: no canvas (3.0 requires at least one)")
    for i, t in ids(m, []):
        if not i.startswith(base) or t in ("Image", "ImageService3", "ImageService2"):
            continue
        counts["ids"] += 1
        target, _, fragment = i.partition("#")
        if fragment:
            holder = m if target == url else None
            if holder is None:
                try:
                    holder = fetch(target)[1]
                except (urllib.error.URLError, ValueError) as e:
                    errors.append(f"{i}: cannot fetch {target}: {e}")
                    continue
            if i not in [x for x, _ in ids(holder, [])]:
                errors.append(f"{i}: {target} does not hold it")
        elif t in ("Canvas", "AnnotationPage", "Annotation"):
            document(i, t)
        elif t in ("Collection", "Manifest") and i not in seen and i not in unique:
            errors.append(f"{url}: {t} {i} is not in the crawled collections")

for m in manifest_docs:
    for canvas in m.get("items", []):
        for page in canvas.get("items", []):
            for anno in page.get("items", []):
                for svc in anno.get("body", {}).get("service", []):
                    sid = svc.get("id", svc.get("@id"))
                    counts["services"] += 1
                    try:
                        info = fetch(sid + "/info.json")[1]
                    except (urllib.error.URLError, ValueError) as e:
                        errors.append(f"{sid}/info.json: {e}")
                        continue
                    if info.get("id", info.get("@id")) != sid:
                        errors.append(f"{sid}/info.json: its id is {info.get('id', info.get('@id'))!r}")
                    size = (info.get("width"), info.get("height"))
                    if size != (canvas.get("width"), canvas.get("height")):
                        errors.append(
                            f"{canvas['id']}: canvas is {canvas.get('width')}x{canvas.get('height')}, "
                            f"{sid}/info.json says {size[0]}x{size[1]}"
                        )

# The unversioned URL answers 3.0 to the 3.0 profile.
if unique:
    key = unique[0].rsplit("/manifests/3/object/", 1)[1]
    try:
        headers, doc = fetch(f"{base}/manifests/object/{key}", accept=PROFILE3)
        if doc.get("id") != unique[0] or headers.get("Content-Type") != PROFILE3:
            errors.append(f"{base}/manifests/object/{key}: Accept {PROFILE3} did not answer 3.0")
    except (urllib.error.URLError, ValueError) as e:
        errors.append(f"{base}/manifests/object/{key} with the 3.0 profile: {e}")

view = "privileged" if args.apikey else "public"
print(
    f"presentation 3.0 ({view} view): {counts['Collection']} collections, "
    f"{counts['Manifest']} manifests ({listed_by_top} under the top collection), "
    f"{counts['Canvas']} canvases, {counts['AnnotationPage']} annotation pages, "
    f"{counts['Annotation']} annotations validated against the schema; {counts['ids']} ids "
    f"dereferenced, {counts['services']} image services checked; {len(errors)} errors"
)
for e in errors:
    print("  ERROR:", e)
raise SystemExit(1 if errors or counts["Manifest"] == 0 else 0)
