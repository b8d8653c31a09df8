//! Records of every museum shape, unmodified as published (`tests/fixtures/samples/`, copied
//! from the shared samples), served as manifests: labels, languages, canvases in display
//! order, namespaced ids that never collide, and malformed records skipped with a reason.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use tessera::presentation::shapes::{split, IdentifierRule};
use tessera::presentation::{RecordsFolder, Store};

fn sample_dir() -> std::path::PathBuf {
    fixtures().join("samples")
}

/// A Brooklyn Museum API v2 response written from the inline sample rows of
/// `brooklyn-museum-api-v2_document-shape_from-ts-interfaces.md` (the only v2 sample is a
/// description of the shape, not a response).
const BROOKLYN_V2: &str = r#"{"data": {"id": 166076, "title": "Runner", "accession_number": "2002.10",
  "public_access": 1, "copyright_restricted": 0,
  "rights_type": {"name": "copyright cleared: license on file with restrict",
                  "public_name": "© artist or artist's estate", "description": "..."},
  "artists": [{"id":6678,"prefix":"","name":"Judy Chicago","suffix":"","nationality":"American","role":"Artist","dates":"American, born 1939","start_year":1939,"end_year":9999,"date_added":"2008-07-03","rank":1}],
  "collections": [{"id":8,"name":"Contemporary Art","folder":"contemporary_art","rank":0}],
  "images": [{"id":10569,"status":"active","filename":"2002.10-PS-12_runner_PS1.jpg","date":"","credit":"","description":"","view":"group","date_added":"2008-09-19","rank":4,"is_color":"","load_date":"2016-11-22","updated_at":"2021-11-18 04:01:29","object_image_id":10569,"object_id":166076}]}}"#;

/// Every sample record file (unmodified) plus the v2 response, in `dir/records`, and a small
/// real photograph in `dir/images` under every identifier the records name.
pub(crate) fn museum_folder(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (records, images) = (dir.join("records"), dir.join("images"));
    std::fs::create_dir_all(&records).unwrap();
    std::fs::create_dir_all(&images).unwrap();
    for entry in std::fs::read_dir(sample_dir()).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().unwrap_or_default();
        if ext == "json" || ext == "xml" {
            std::fs::copy(&path, records.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(records.join("brooklyn-v2-166076.json"), BROOKLYN_V2).unwrap();
    let photo = samples().join("small-garden.jpg");
    for entry in std::fs::read_dir(&records).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for found in split(&text, None).into_iter().flatten() {
            let Ok((shape, raw)) = found.record else {
                continue;
            };
            let Ok(object) = shape.read(raw, IdentifierRule::Stem) else {
                continue;
            };
            for id in object.identifiers() {
                std::fs::copy(&photo, images.join(format!("{id}.jpg"))).unwrap();
            }
        }
    }
    (records, images)
}

async fn manifest(app: &App, key: &str) -> Value {
    let url = format!("{}/manifests/object/{key}", app.base);
    let (status, _, body) = app.get(&url).await;
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

fn canvas_services(m: &Value) -> Vec<String> {
    m["sequences"][0]["canvases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let id = c["images"][0]["resource"]["service"]["@id"]
                .as_str()
                .unwrap();
            id.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

fn metadata<'a>(m: &'a Value, label: &str) -> &'a Value {
    &m["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == label)
        .unwrap_or_else(|| panic!("no {label} in {}", m["metadata"]))["value"]
}

#[tokio::test]
async fn every_published_shape_loads_unmodified_and_becomes_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (records, images) = museum_folder(dir.path());
    let app = App::new(&images, |c| c.records = vec![RecordsFolder::new(&records)]);

    // Harvard object: the title, and five canvases in displayorder.
    let m = manifest(&app, "304069").await;
    assert_eq!(m["label"], "Hydria (water jar) with Siren Attachment");
    let ids = canvas_services(&m);
    assert_eq!(ids.len(), 5);
    assert_eq!(ids[0], "urn-3:HUAM:DDC251092_dynmc");

    // Harvard image record: one canvas of the record's size.
    let m = manifest(&app, "harvard-image:465905").await;
    assert_eq!(canvas_services(&m), ["urn-3:HUAM:760994"]);
    let canvas = &m["sequences"][0]["canvases"][0];
    assert_eq!(
        (canvas["width"].as_u64(), canvas["height"].as_u64()),
        (Some(1955), Some(2550))
    );

    // Brooklyn opencollection page: two objects, each with the image its record names.
    let m = manifest(&app, "brooklyn:1588").await;
    assert_eq!(m["label"], "\"Pedestal\" Armchair and Seat Cushion");
    assert_eq!(canvas_services(&m), ["78.128.7_view2_IMLS_SL2"]);
    assert_eq!(
        metadata(&m, "People")[0],
        "Designer: Eero Saarinen, American, born Finland, 1910-1961"
    );
    assert_eq!(
        m["license"],
        "http://creativecommons.org/licenses/by-nc/3.0/"
    );
    let m = manifest(&app, "brooklyn:2263").await;
    assert_eq!(m["label"], "Side Chair");
    assert_eq!(canvas_services(&m), ["1994.156.1_bw"]);

    // Brooklyn API v2.
    let m = manifest(&app, "brooklyn:166076").await;
    assert_eq!(m["label"], "Runner");
    assert_eq!(canvas_services(&m), ["2002.10-PS-12_runner_PS1"]);

    // M+: the title in English and traditional Chinese, metadata in all three languages.
    let m = manifest(&app, "mplus:23").await;
    assert_eq!(
        m["label"],
        serde_json::json!([
            {"@value": "Flying onto a branch", "@language": "en"},
            {"@value": "飛上枝頭", "@language": "zh-hant"}
        ])
    );
    let area = metadata(&m, "Area").as_array().unwrap();
    let langs: Vec<&str> = area
        .iter()
        .map(|v| v["@language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["en", "zh-hant", "zh-hans"]);
    assert_eq!(canvas_services(&m), ["000014_001"]);

    // Paris Musées: French, and no images in the published example.
    let m = manifest(&app, "parismusees:226737").await;
    assert_eq!(
        m["label"],
        serde_json::json!([{"@value": "Soleil couchant sur la Seine à Lavacourt, effet d'hiver", "@language": "fr"}])
    );
    assert!(canvas_services(&m).is_empty());

    // Every museum is in the top collection.
    let top = format!("{}/collections/top?page=1", app.base);
    let (status, _, body) = app.get(&top).await;
    assert_eq!(status, 200);
    let page: Value = serde_json::from_slice(&body).unwrap();
    let listed: Vec<&str> = page["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["@id"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    for key in [
        "304069",
        "harvard-image:465905",
        "brooklyn:1588",
        "brooklyn:166076",
        "mplus:23",
        "parismusees:226737",
    ] {
        assert!(listed.contains(&key), "{key} not in {listed:?}");
    }
}

#[tokio::test]
async fn the_same_id_in_two_museums_is_two_objects() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records");
    std::fs::create_dir(&records).unwrap();
    std::fs::write(
        records.join("harvard.json"),
        r#"{"objectid": 1588, "title": "A Harvard object"}"#,
    )
    .unwrap();
    std::fs::copy(
        sample_dir().join("brooklyn-museum-opencollection_collection-search_response.json"),
        records.join("brooklyn.json"),
    )
    .unwrap();
    let app = App::new(&samples(), |c| {
        c.records = vec![RecordsFolder::new(&records)]
    });
    assert_eq!(manifest(&app, "1588").await["label"], "A Harvard object");
    let m = manifest(&app, "brooklyn:1588").await;
    assert_eq!(m["label"], "\"Pedestal\" Armchair and Seat Cushion");
    assert_eq!(
        m["@id"],
        format!("{}/manifests/object/brooklyn:1588", app.base)
    );
    for missing in [
        "harvard:1588",
        "brooklyn:01588",
        "mplus:1588",
        "brooklyn:",
        ":1588",
    ] {
        let url = format!("{}/manifests/object/{missing}", app.base);
        assert_eq!(app.get(&url).await.0, 404, "{missing}");
    }
}

#[test]
fn named_folders_and_shapes_and_identifier_rules_apply() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    let hit = r#"{"_source": {"id": 7, "titles": [[{"text": "T", "lang": "en"}]],
        "medias": [{"rank": 1, "filename": "/lib/sub/x.jpg"}]}}"#;
    std::fs::write(a.join("1.json"), hit).unwrap();
    // A record with none of M+'s marker keys, read as M+ because its folder says so.
    std::fs::write(b.join("2.json"), r#"{"id": 8, "objectnumber": "n"}"#).unwrap();
    let folders = [
        RecordsFolder::parse(&format!("{},name=hk,identifiers=path", a.display())).unwrap(),
        RecordsFolder::parse(&format!("{},shape=mplus", b.display())).unwrap(),
    ];
    let (store, report) = Store::load(&folders, true);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let hk = store.find("hk:7").expect("named namespace");
    assert_eq!(
        store.object(hk).unwrap().unwrap().identifiers(),
        ["lib/sub/x.jpg"]
    );
    assert!(store.find("mplus:8").is_some());
    assert!(store.find("mplus:7").is_none());
    for bad in [
        "",
        "dir,shape=nope",
        "dir,identifiers=odd",
        "dir,name=Upper",
        "dir,colour=red",
        "dir,name",
    ] {
        assert!(RecordsFolder::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn malformed_records_are_skipped_with_their_file_and_nothing_else_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
    // A Harvard page: a good record, one whose objectid is a word, one that is not an object.
    write(
        "harvard-page.json",
        r#"{"info": {}, "records": [{"objectid": 1, "title": "Good"},
            {"objectid": "one", "title": "Bad id"}, 42]}"#,
    );
    // A Brooklyn page with an item without an id, beside a good one.
    write(
        "brooklyn-page.json",
        r#"{"response": {"resultset": {"items": [
            {"accession_number": "a", "title": "No id", "images": {}},
            {"id": "5", "accession_number": "b", "title": "Good", "images": {}}]}}}"#,
    );
    write("mplus.json", r#"{"hits": {"hits": [{"_source": 5}]}}"#);
    write(
        "paris.json",
        r#"{"data": {"nodeById": {"entityBundle": "auteur", "title": "x"}}}"#,
    );
    write("harvard-image.json", r#"{"imageid": 3, "width": 1}"#);
    write("truncated.json", r#"{"objectid": 9, "title": "#);
    write("unknown.json", r#"{"colour": "red"}"#);
    std::fs::copy(
        sample_dir().join("brooklyn-museum-opencollection_collection-search_response.xml"),
        d.join("brooklyn.xml"),
    )
    .unwrap();
    let (store, report) = Store::load_with(d, false);
    assert_eq!(report.loaded, 2, "{:?}", report.skipped);
    assert!(store.find("1").is_some() && store.find("brooklyn:5").is_some());
    let reason = |file: &str| -> Vec<String> {
        report
            .skipped
            .iter()
            .filter(|(p, _)| p.file_name().unwrap() == file)
            .map(|(_, why)| why.clone())
            .collect()
    };
    let harvard = reason("harvard-page.json");
    assert_eq!(harvard.len(), 2, "{harvard:?}");
    assert!(
        harvard[0].starts_with("record 1: harvard-object:"),
        "{harvard:?}"
    );
    assert!(harvard[1].starts_with("record 2:") && harvard[1].contains("not a JSON object"));
    assert!(reason("brooklyn-page.json")[0]
        .contains("record 0: brooklyn-opencollection: record has no id"));
    assert!(reason("mplus.json")[0].starts_with("record 0: mplus:"));
    assert!(reason("paris.json")[0].contains("not a work"));
    assert!(reason("harvard-image.json")[0].contains("no baseimageurl"));
    assert!(reason("truncated.json")[0].contains("EOF"));
    assert!(reason("unknown.json")[0].contains("matches no record shape"));
    let xml = &reason("brooklyn.xml")[0];
    assert!(xml.contains("not well-formed XML (line 1, column"), "{xml}");
    assert_eq!(report.skipped.len(), 9, "{:?}", report.skipped);
    assert!(
        report.summary().contains("2 loaded"),
        "{}",
        report.summary()
    );
}

#[tokio::test]
async fn a_3_0_info_json_gives_the_rights_its_record_gives() {
    let dir = tempfile::tempdir().unwrap();
    let (records, images) = museum_folder(dir.path());
    let app = App::new(&images, |c| c.records = vec![RecordsFolder::new(&records)]);
    let info = |id: &'static str| {
        let app = app.clone();
        async move {
            let url = format!("{}/iiif/3/{id}/info.json", app.base);
            let (status, _, body) = app.get(&url).await;
            assert_eq!(status, 200, "{url}");
            serde_json::from_slice::<Value>(&body).unwrap()
        }
    };
    // Brooklyn 1588's rights type is Creative Commons BY-NC: its image's service says so,
    // by any spelling of the identifier.
    for id in ["78.128.7_view2_IMLS_SL2", "78.128.7_view2_IMLS_SL2.jpg"] {
        assert_eq!(
            info(id).await["rights"],
            "http://creativecommons.org/licenses/by-nc/3.0/",
            "{id}"
        );
    }
    // Harvard's records give no rights URI; 2.1's info.json has no `rights` property.
    assert!(info("urn-3:HUAM:DDC251092_dynmc")
        .await
        .get("rights")
        .is_none());
    let url = format!("{}/iiif/78.128.7_view2_IMLS_SL2/info.json", app.base);
    let (_, _, body) = app.get(&url).await;
    let v2: Value = serde_json::from_slice(&body).unwrap();
    assert!(v2.get("rights").is_none());
}

#[tokio::test]
async fn with_3_0_as_the_default_2_1_manifests_still_name_2_1_services() {
    let dir = tempfile::tempdir().unwrap();
    let (records, images) = museum_folder(dir.path());
    let app = App::new(&images, |c| {
        c.records = vec![RecordsFolder::new(&records)];
        c.image_api = tessera::iiif::Version::V3;
    });
    let m = manifest(&app, "304069").await;
    let service = &m["sequences"][0]["canvases"][0]["images"][0]["resource"]["service"];
    let id = service["@id"].as_str().unwrap();
    assert_eq!(
        id,
        format!("{}/iiif/2/urn-3:HUAM:DDC251092_dynmc", app.base)
    );
    let (status, _, body) = app.get(&format!("{id}/info.json")).await;
    assert_eq!(status, 200);
    let info: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(info["@context"], "http://iiif.io/api/image/2/context.json");
    assert_eq!(info["@id"], id);
    // The unversioned service is 3.0 here.
    let url = format!("{}/iiif/urn-3:HUAM:DDC251092_dynmc/info.json", app.base);
    let (_, _, body) = app.get(&url).await;
    let v3: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v3["type"], "ImageService3");
}
