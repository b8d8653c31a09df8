//! Property tests of the protocol code (issue 7): the router and parser never panic, every
//! rejection is a 4xx, every plan is within the limits, and a plan's canonical form parses
//! back to the same plan.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use tessera::http::Error;
use tessera::iiif::canonical::canonical_path;
use tessera::iiif::geometry::plan;
use tessera::iiif::path::{parse, Route};
use tessera::iiif::{Dimensions, Limits};

fn limits() -> Limits {
    Limits {
        max_width: 4000,
        max_height: 4000,
        max_area: 8_000_000,
        scale_cap: None,
    }
}

/// Numbers as a client may write them: small, large, zero, decimals, signs, junk.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..5000).prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
        (0.0f64..200.0).prop_map(|f| format!("{f:.3}")),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1e3".to_string()),
        Just("".to_string()),
        "[0-9.,!:a-z-]{0,6}",
    ]
}

fn region() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("full".to_string()),
        Just("square".to_string()),
        (number(), number(), number(), number())
            .prop_map(|(a, b, c, d)| format!("{a},{b},{c},{d}")),
        (number(), number(), number(), number())
            .prop_map(|(a, b, c, d)| format!("pct:{a},{b},{c},{d}")),
        "[ -~]{0,12}",
    ]
}

fn size() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("full".to_string()),
        Just("max".to_string()),
        number().prop_map(|w| format!("{w},")),
        number().prop_map(|h| format!(",{h}")),
        (number(), number()).prop_map(|(w, h)| format!("{w},{h}")),
        (number(), number()).prop_map(|(w, h)| format!("!{w},{h}")),
        number().prop_map(|p| format!("pct:{p}")),
        "[ -~]{0,10}",
    ]
}

fn rotation() -> impl Strategy<Value = String> {
    prop_oneof![
        number(),
        number().prop_map(|n| format!("!{n}")),
        Just("90".to_string()),
        Just("!270".to_string()),
    ]
}

fn file() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("default"),
            Just("color"),
            Just("gray"),
            Just("bitonal"),
            Just("x")
        ],
        prop_oneof![
            Just("jpg"),
            Just("png"),
            Just("webp"),
            Just("gif"),
            Just("tif"),
            Just("pdf"),
            Just("jp2"),
            Just("bmp"),
            Just("")
        ],
    )
        .prop_map(|(q, f)| format!("{q}.{f}"))
}

fn identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_-]{1,12}",
        Just("urn-3:HUAM:1234".to_string()),
        Just("a%2Fb".to_string()),
        Just("%2e%2e".to_string()),
        Just("..".to_string()),
        Just("%ff%fe".to_string()),
        Just("[frob]".to_string()),
        "[ -~]{0,16}",
    ]
}

/// Any rejection by the router is a client error.
fn assert_4xx(path: &str) -> Option<Route> {
    match parse(path) {
        Ok(route) => Some(route),
        Err(e) => {
            let status = Error::from(e).status().as_u16();
            assert!((400..500).contains(&status), "{path}: {status}");
            None
        }
    }
}

proptest! {
    // Failing cases are kept next to this file, in properties.proptest-regressions (by default
    // proptest would look for a main.rs above it and use a folder beside that one).
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions"
        ))),
        ..ProptestConfig::with_cases(3000)
    })]

    #[test]
    fn arbitrary_paths_never_panic(path in "[ -~]{0,80}") {
        assert_4xx(&path);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        assert_4xx(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn image_requests_plan_within_limits_and_round_trip(
        id in identifier(), r in region(), s in size(), rot in rotation(), f in file(),
        w in 1u32..20_000, h in 1u32..20_000,
    ) {
        let path = format!("{id}/{r}/{s}/{rot}/{f}");
        let Some(Route::Image(id, req)) = assert_4xx(&path) else { return Ok(()) };
        let dims = Dimensions { width: w, height: h };
        let Ok(p) = plan(&req, dims, &limits()) else {
            // Every geometry error is a client error too.
            let err = plan(&req, dims, &limits()).unwrap_err();
            let status = Error::from(err).status().as_u16();
            prop_assert!((400..500).contains(&status));
            return Ok(());
        };
        prop_assert!(p.width >= 1 && p.height >= 1);
        prop_assert!(p.width <= 4000 && p.height <= 4000);
        prop_assert!(u64::from(p.width) * u64::from(p.height) <= 8_000_000);
        prop_assert!(p.region.x + p.region.w <= w && p.region.y + p.region.h <= h);
        // The canonical form names the same pixels.
        let canonical = canonical_path(&p, dims);
        let again = format!("{}/{canonical}", tessera::iiif::path::encode_identifier(&id));
        let Some(Route::Image(id2, req2)) = assert_4xx(&again) else {
            return Err(TestCaseError::fail(format!("{again} does not parse")));
        };
        prop_assert_eq!(&id2, &id);
        let p2 = plan(&req2, dims, &limits()).map_err(|e| TestCaseError::fail(format!("{again}: {e}")))?;
        prop_assert_eq!((p2.region, p2.width, p2.height, p2.mirror, p2.format, p2.quality), (p.region, p.width, p.height, p.mirror, p.format, p.quality));
        prop_assert!((p2.degrees - p.degrees).abs() < 1e-9);
    }
}
