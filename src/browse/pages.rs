//! The browser's HTML, as pure functions of what the handlers found: the front page (what
//! Tessera is, and a page of the grid or of search results) and an object's page. Every
//! record field, the query and every URL made from them go through [`escape`]; record text is
//! printed as text, never as markup. Links are absolute, under the server root the request
//! names (as manifests' `@id`s are).

use super::assets::{script_path, stylesheet_path, ViewerScript};
use crate::iiif::path::{encode_identifier, encode_segment};
use crate::presentation::html::escape;
use crate::presentation::model::{Object, Text};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use std::fmt::Write;

/// One object in the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// Its key as URLs write it.
    pub key: String,
    /// Its title (never empty).
    pub title: String,
    /// Its thumbnail's URL: its first image the caller may see, if any.
    pub thumbnail: Option<String>,
}

/// A page of the grid, or of search results.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    /// The query, for search results.
    pub query: Option<&'a str>,
    /// The page, from 1.
    pub page: usize,
    /// The number of pages (at least 1).
    pub pages: usize,
    /// The number of objects listed or found.
    pub total: usize,
    /// This page's objects.
    pub cards: &'a [Card],
}

/// An image of an object, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageView {
    /// The local identifier.
    pub identifier: String,
    /// Its caption, if the record gives one.
    pub caption: Option<String>,
    /// Its size in pixels.
    pub width: u32,
    /// Its size in pixels.
    pub height: u32,
    /// The side it is limited to for this caller, if any.
    pub limited: Option<u32>,
}

/// Where the pages' links point.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// The server root, e.g. `https://images.example.org`.
    pub root: &'a str,
    /// The Image API 2.1 base (thumbnails and the still image).
    pub image2: &'a str,
    /// The Image API 3.0 base (the viewer's info.json).
    pub image3: &'a str,
    /// The owner's name, for titles.
    pub owner: &'a str,
}

fn query_value(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// The page around `body`: head, stylesheet, and the header with the search box.
fn shell(site: &Site, title: &str, query: &str, body: &str, scripts: &str) -> String {
    let root = escape(site.root);
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"{root}{css}\">\n</head>\n<body>\n\
         <header class=\"site\">\n<a class=\"brand\" href=\"{root}/\">Tessera<small>IIIF image server</small></a>\n\
         <form class=\"search\" role=\"search\" method=\"get\" action=\"{root}/\">\n\
         <input type=\"search\" name=\"q\" value=\"{query}\" placeholder=\"Title or object number\" aria-label=\"Search the collection by title or object number\">\n\
         <button type=\"submit\">Search</button>\n</form>\n</header>\n{body}{scripts}</body>\n</html>\n",
        title = escape(title),
        css = escape(&stylesheet_path()),
        query = escape(query),
    )
}

/// The URL of an object's page.
pub fn object_url(root: &str, key: &str) -> String {
    format!("{root}/objects/{}", encode_segment(key))
}

/// The front page: what Tessera is, then one page of the grid or of search results.
pub fn home(site: &Site, listing: &Listing) -> String {
    let root = site.root;
    let mut body = String::from("<main>\n");
    let _ = write!(
        body,
        "<section class=\"about\">\n<h1>{owner}: the collection</h1>\n\
         <p><strong>Tessera</strong> is a IIIF image server. It serves these images through the \
         IIIF Image API (2.1 and 3.0), tile by tile for deep zoom, and the objects' records as \
         IIIF Presentation manifests that any IIIF viewer opens. Choose an object for its record, \
         its images and a deep-zoom viewer, or give a IIIF viewer the whole collection: \
         <a href=\"{r}/collections/top\">top collection (Presentation 2.1)</a>, \
         <a href=\"{r}/collections/3/top\">top collection (Presentation 3.0)</a>.</p>\n</section>\n",
        owner = escape(site.owner),
        r = escape(root),
    );
    let n = listing.total;
    let plural = |n: usize| if n == 1 { "object" } else { "objects" };
    let count = match listing.query {
        Some(q) => format!("{n} {} found for “{}”", plural(n), escape(q)),
        None => format!("{n} {}", plural(n)),
    };
    let _ = writeln!(
        body,
        "<p class=\"count\">{count}{}</p>",
        if listing.pages > 1 {
            format!(" · page {} of {}", listing.page, listing.pages)
        } else {
            String::new()
        }
    );
    if !listing.cards.is_empty() {
        body.push_str("<ul class=\"grid\">\n");
        for c in listing.cards {
            let picture = match &c.thumbnail {
                Some(src) => format!("<img src=\"{}\" alt=\"\" loading=\"lazy\">", escape(src)),
                None => "<span class=\"none\">No image available</span>".to_string(),
            };
            let _ = writeln!(
                body,
                "<li><a href=\"{}\"><span class=\"frame\">{picture}</span><span class=\"title\">{}</span></a></li>",
                escape(&object_url(root, &c.key)),
                escape(&c.title),
            );
        }
        body.push_str("</ul>\n");
    }
    if listing.pages > 1 {
        let link = |page: usize| {
            let mut url = format!("{root}/?");
            if let Some(q) = listing.query {
                let _ = write!(url, "q={}&", query_value(q));
            }
            let _ = write!(url, "page={page}");
            escape(&url)
        };
        body.push_str("<nav class=\"pages\" aria-label=\"Pages\">\n");
        if listing.page > 1 {
            let _ = writeln!(
                body,
                "<a rel=\"prev\" href=\"{}\">← Previous</a>",
                link(listing.page - 1)
            );
        }
        let _ = writeln!(
            body,
            "<span>Page {} of {}</span>",
            listing.page, listing.pages
        );
        if listing.page < listing.pages {
            let _ = writeln!(
                body,
                "<a rel=\"next\" href=\"{}\">Next →</a>",
                link(listing.page + 1)
            );
        }
        body.push_str("</nav>\n");
    }
    body.push_str("</main>\n");
    let title = match listing.query {
        Some(q) => format!("“{q}”: search · {}", site.owner),
        None => format!("{}: the collection", site.owner),
    };
    shell(site, &title, listing.query.unwrap_or(""), &body, "")
}

/// An image service's base URI for `identifier`.
fn service(base: &str, identifier: &str) -> String {
    format!("{base}/{}", encode_identifier(identifier))
}

/// The size parameter of a picture of `image` fitted in `side` × `side`: never larger than the
/// image, nor than its limit.
pub fn fitted(image: &ImageView, side: u32) -> String {
    let side = image.limited.map_or(side, |l| l.min(side));
    if image.width.max(image.height) <= side {
        "full".into()
    } else {
        format!("!{side},{side}")
    }
}

/// A thumbnail URL of an image (Image API 2.1).
pub fn thumbnail(image2: &str, image: &ImageView) -> String {
    format!(
        "{}/full/{}/0/default.jpg",
        service(image2, &image.identifier),
        fitted(image, super::THUMBNAIL)
    )
}

fn text_html(t: &Text) -> String {
    t.0.iter()
        .map(|l| match &l.lang {
            Some(lang) => format!(
                "<span lang=\"{}\">{}</span>",
                escape(lang),
                escape(&l.value)
            ),
            None => escape(&l.value),
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// An object's page; `chosen` is the index of the image the viewer opens (in `images`).
pub fn object(
    site: &Site,
    viewer: &ViewerScript,
    key: &str,
    record: &Object,
    images: &[ImageView],
    chosen: usize,
) -> String {
    let root = site.root;
    let title = record.title();
    let page_url = object_url(root, key);
    let mut body = String::from("<main>\n");
    let _ = write!(
        body,
        "<h1>{}</h1>\n<p class=\"key\">Object {}</p>\n<div class=\"object\">\n<section>\n",
        escape(&title),
        escape(key)
    );
    match images.get(chosen) {
        Some(first) => {
            let svc2 = service(site.image2, &first.identifier);
            let _ = writeln!(
                body,
                "<div id=\"viewer\" data-buttons=\"{}\"><noscript><img src=\"{}\" alt=\"{}\"></noscript></div>",
                escape(&viewer.buttons),
                escape(&format!(
                    "{svc2}/full/{}/0/default.jpg",
                    fitted(first, super::PREVIEW)
                )),
                escape(&title),
            );
            if let Some(side) = first.limited {
                let _ = writeln!(
                    body,
                    "<p class=\"note\">This image is shown at most {side} pixels on its long side.</p>"
                );
            }
            body.push_str("<ol class=\"images\">\n");
            for (i, im) in images.iter().enumerate() {
                let svc3 = service(site.image3, &im.identifier);
                let svc2 = service(site.image2, &im.identifier);
                let label = im
                    .caption
                    .clone()
                    .unwrap_or_else(|| format!("Image {}", i + 1));
                let limited = im
                    .limited
                    .map(|s| format!(" data-limited=\"{s}\""))
                    .unwrap_or_default();
                let _ = writeln!(
                    body,
                    "<li><a class=\"choice\" href=\"{href}\" data-info=\"{info3}\"{limited} aria-current=\"{current}\" title=\"{label}\">\
                     <img src=\"{thumb}\" alt=\"{label}\" loading=\"lazy\"></a>\
                     {label}<br>info.json: <a href=\"{info2}\">2.1</a> · <a href=\"{info3}\">3.0</a></li>",
                    href = escape(&format!("{page_url}?image={}", i + 1)),
                    info3 = escape(&format!("{svc3}/info.json")),
                    info2 = escape(&format!("{svc2}/info.json")),
                    current = i == chosen,
                    label = escape(&label),
                    thumb = escape(&thumbnail(site.image2, im)),
                );
            }
            body.push_str("</ol>\n");
        }
        None => body.push_str("<p class=\"note\">No image of this object is available.</p>\n"),
    }
    body.push_str("</section>\n<section>\n");
    if !record.summary.is_empty() {
        let _ = writeln!(
            body,
            "<p class=\"description\">{}</p>",
            text_html(&record.summary)
        );
    }
    if !record.metadata.is_empty() {
        body.push_str("<dl class=\"metadata\">\n");
        for f in &record.metadata {
            let values: Vec<String> = f
                .values
                .iter()
                .map(|v| format!("<p>{}</p>", text_html(v)))
                .collect();
            let _ = writeln!(
                body,
                "<dt>{}</dt><dd>{}</dd>",
                escape(f.label),
                values.join("")
            );
        }
        body.push_str("</dl>\n");
    }
    let encoded = encode_segment(key);
    let _ = write!(
        body,
        "<h2>IIIF</h2>\n<ul class=\"links\">\n\
         <li><a href=\"{m2}\">Manifest (Presentation 2.1)</a></li>\n\
         <li><a href=\"{m3}\">Manifest (Presentation 3.0)</a></li>\n",
        m2 = escape(&format!("{root}/manifests/object/{encoded}")),
        m3 = escape(&format!("{root}/manifests/3/object/{encoded}")),
    );
    if let Some(home) = record
        .homepage
        .as_deref()
        .map(str::trim)
        .filter(|u| crate::presentation::manifest::is_uri(u))
    {
        let _ = writeln!(
            body,
            "<li><a href=\"{}\" rel=\"noopener\">The museum's page of this object</a></li>",
            escape(home)
        );
    }
    body.push_str("</ul>\n</section>\n</div>\n</main>\n");
    let scripts = if images.is_empty() {
        String::new()
    } else {
        let integrity = viewer
            .integrity
            .as_deref()
            .map(|i| format!(" integrity=\"{}\"", escape(i)))
            .unwrap_or_default();
        format!(
            "<script src=\"{}\"{integrity} crossorigin=\"anonymous\"></script>\n\
             <script src=\"{}{}\"></script>\n",
            escape(&viewer.src),
            escape(root),
            escape(&script_path())
        )
    };
    shell(
        site,
        &format!("{title} · {}", site.owner),
        "",
        &body,
        &scripts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presentation::model::{Field, Lang};

    const SITE: Site = Site {
        root: "http://h",
        image2: "http://h/iiif",
        image3: "http://h/iiif/3",
        owner: "Tessera",
    };

    fn viewer() -> ViewerScript {
        ViewerScript {
            src: "https://cdn.example/osd.js".into(),
            integrity: Some("sha384-abc".into()),
            buttons: "https://cdn.example/images/".into(),
        }
    }

    const HOSTILE: &str = "<script>alert(\"x\")</script> & 'q'";

    #[test]
    fn the_grid_escapes_titles_and_the_query_and_links_its_pages() {
        let cards = [
            Card {
                key: "brooklyn:a b".into(),
                title: HOSTILE.into(),
                thumbnail: Some("http://h/iiif/x/full/!200,200/0/default.jpg".into()),
            },
            Card {
                key: "7".into(),
                title: "Plain".into(),
                thumbnail: None,
            },
        ];
        let html = home(
            &SITE,
            &Listing {
                query: Some("<b>&"),
                page: 2,
                pages: 3,
                total: 100,
                cards: &cards,
            },
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>&"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;")
        );
        assert!(html.contains("value=\"&lt;b&gt;&amp;\""));
        assert!(
            html.contains("href=\"http://h/objects/brooklyn:a%20b\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"http://h/?q=%3Cb%3E%26&amp;page=1\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"http://h/?q=%3Cb%3E%26&amp;page=3\""),
            "{html}"
        );
        assert!(html.contains("No image available"));
        assert!(html.contains("href=\"http://h/collections/3/top\""));
        assert!(
            html.contains("100 objects found for “&lt;b&gt;&amp;”"),
            "{html}"
        );
    }

    #[test]
    fn an_object_page_escapes_every_field_and_links_manifests_and_info() {
        let mut o = Object {
            id: "1".into(),
            label: Text::one(None, HOSTILE),
            summary: Text::one(Some("en"), "<img src=x onerror=alert(1)>"),
            homepage: Some("javascript:alert(1)".into()),
            ..Object::default()
        };
        o.metadata.push(Field {
            label: "Medium",
            values: vec![Text(vec![
                Lang {
                    lang: Some("en\"><script>".into()),
                    value: "</dd><script>x</script>".into(),
                },
                Lang {
                    lang: None,
                    value: "second".into(),
                },
            ])],
        });
        let images = [
            ImageView {
                identifier: "urn-3:HUAM:A\"1".into(),
                caption: Some("<i>cap</i>".into()),
                width: 4000,
                height: 3000,
                limited: None,
            },
            ImageView {
                identifier: "2".into(),
                caption: None,
                width: 400,
                height: 300,
                limited: Some(256),
            },
        ];
        let html = object(&SITE, &viewer(), "x:1", &o, &images, 0);
        assert!(!html.contains("<script>x"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<i>cap"), "{html}");
        assert!(html.contains("&lt;/dd&gt;&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("lang=\"en&quot;&gt;&lt;script&gt;\""));
        assert!(html.contains("href=\"http://h/manifests/object/x:1\""));
        assert!(html.contains("href=\"http://h/manifests/3/object/x:1\""));
        assert!(
            html.contains("href=\"http://h/iiif/urn-3:HUAM:A%221/info.json\""),
            "{html}"
        );
        assert!(html.contains("data-info=\"http://h/iiif/3/urn-3:HUAM:A%221/info.json\""));
        assert!(
            html.contains("href=\"http://h/iiif/%32/info.json\""),
            "{html}"
        );
        assert!(html.contains("data-limited=\"256\""));
        assert!(html.contains("http://h/iiif/%32/full/!200,200/0/default.jpg"));
        assert!(
            html.contains("/full/!1024,1024/0/default.jpg"),
            "the still image"
        );
        assert!(html.contains(
            "<script src=\"https://cdn.example/osd.js\" integrity=\"sha384-abc\" crossorigin=\"anonymous\">"
        ));
        assert!(html.contains("href=\"http://h/objects/x:1?image=2\""));
        // The limited image chosen: its still image stays within its limit.
        let html = object(&SITE, &viewer(), "x:1", &o, &images, 1);
        assert!(
            html.contains("http://h/iiif/%32/full/!256,256/0/default.jpg"),
            "{html}"
        );
        assert!(html.contains("at most 256 pixels"));
        // No image: no viewer and no script.
        let html = object(&SITE, &viewer(), "x:1", &o, &[], 0);
        assert!(html.contains("No image of this object is available"));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn pictures_are_never_larger_than_the_image_or_its_limit() {
        let mut im = ImageView {
            identifier: "a".into(),
            caption: None,
            width: 150,
            height: 100,
            limited: None,
        };
        assert_eq!(fitted(&im, 200), "full");
        im.width = 300;
        assert_eq!(fitted(&im, 200), "!200,200");
        im.width = 4000;
        im.limited = Some(256);
        assert_eq!(fitted(&im, 1024), "!256,256");
        assert_eq!(fitted(&im, 200), "!200,200");
    }
}
