//! The canonical URI form of an image request: §4.7 of 2.1 and §4.8 of 3.0. The 2.1 form is
//! also the cache key and the ETag's input for both versions, so that the same pixels asked
//! in either version are made once and tagged alike.

use super::geometry::{full_rect, max_size, proportional, Dimensions, Limits, Plan};
use super::number::format_decimal;
use super::version::Version;

/// The canonical `{region}/{size}/{rotation}/{quality}.{format}` path of a resolved request in
/// `version`'s form; `limits` are the ones the request was planned within (3.0's `max`
/// depends on them).
pub fn canonical_for(version: Version, plan: &Plan, dims: Dimensions, limits: &Limits) -> String {
    match version {
        Version::V2 => canonical_path(plan, dims),
        Version::V3 => canonical_path_v3(plan, dims, limits),
    }
}

/// The 2.1 canonical path of a resolved request.
pub fn canonical_path(plan: &Plan, dims: Dimensions) -> String {
    let r = plan.region;
    let size = if (plan.width, plan.height) == (r.w, r.h) {
        "full".to_string()
    } else if proportional(r.w, r.h, plan.width) == plan.height {
        format!("{},", plan.width)
    } else {
        format!("{},{}", plan.width, plan.height)
    };
    join(plan, dims, &size)
}

/// The 3.0 canonical path: the size is `max` or `^max` when it is the largest without or
/// with upscaling, else `w,h`, prefixed with `^` when it is larger than the region.
pub fn canonical_path_v3(plan: &Plan, dims: Dimensions, limits: &Limits) -> String {
    let r = plan.region;
    let out = (plan.width, plan.height);
    let larger = plan.width > r.w || plan.height > r.h;
    let size = if out == max_size(r.w, r.h, limits, false) {
        "max".to_string()
    } else if larger && out == max_size(r.w, r.h, limits, true) {
        "^max".to_string()
    } else if larger {
        format!("^{},{}", plan.width, plan.height)
    } else {
        format!("{},{}", plan.width, plan.height)
    };
    join(plan, dims, &size)
}

/// The region, then `size`, then rotation, quality and format, as both versions write them.
fn join(plan: &Plan, dims: Dimensions, size: &str) -> String {
    let r = plan.region;
    let region = if r == full_rect(dims) {
        "full".to_string()
    } else {
        format!("{},{},{},{}", r.x, r.y, r.w, r.h)
    };
    let mirror = if plan.mirror { "!" } else { "" };
    format!(
        "{region}/{size}/{mirror}{}/{}.{}",
        format_decimal(plan.degrees),
        plan.quality.name(),
        plan.format.extension()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iiif::geometry::{plan, Limits};
    use crate::iiif::request::ImageRequest;

    const D: Dimensions = Dimensions {
        width: 1000,
        height: 600,
    };
    const LIM: Limits = Limits {
        max_width: 5000,
        max_height: 5000,
        max_area: 25_000_000,

        scale_cap: None,
    };

    fn canon(path: &str) -> String {
        let p: Vec<&str> = path.split('/').collect();
        let req = ImageRequest::parse(p[0], p[1], p[2], p[3]).unwrap();
        canonical_path(&plan(&req, D, &LIM).unwrap(), D)
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canon("full/full/0/default.jpg"), "full/full/0/default.jpg");
        assert_eq!(canon("full/max/0/default.jpg"), "full/full/0/default.jpg");
        assert_eq!(
            canon("pct:0,0,100,100/full/0/default.jpg"),
            "full/full/0/default.jpg"
        );
        assert_eq!(
            canon("0,0,1000,600/full/0/default.jpg"),
            "full/full/0/default.jpg"
        );
        assert_eq!(
            canon("0,0,5000,5000/full/0/default.jpg"),
            "full/full/0/default.jpg"
        );
        assert_eq!(
            canon("square/full/0/default.jpg"),
            "200,0,600,600/full/0/default.jpg"
        );
        assert_eq!(
            canon("pct:10,10,50,50/full/0/gray.png"),
            "100,60,500,300/full/0/gray.png"
        );
        assert_eq!(canon("full/,300/0/default.jpg"), "full/500,/0/default.jpg");
        assert_eq!(
            canon("full/pct:50/0/default.jpg"),
            "full/500,/0/default.jpg"
        );
        assert_eq!(
            canon("full/!500,500/0/default.jpg"),
            "full/500,/0/default.jpg"
        );
        assert_eq!(
            canon("full/500,300/0/default.jpg"),
            "full/500,/0/default.jpg"
        );
        assert_eq!(
            canon("full/500,500/0/default.jpg"),
            "full/500,500/0/default.jpg"
        );
        assert_eq!(
            canon("full/full/090.00/color.jpg"),
            "full/full/90/color.jpg"
        );
        assert_eq!(
            canon("full/full/!22.50/bitonal.tif"),
            "full/full/!22.5/bitonal.tif"
        );
        assert_eq!(
            canon("full/full/360/default.jpg"),
            "full/full/0/default.jpg"
        );
    }

    fn canon3(path: &str, limits: &Limits) -> String {
        let p: Vec<&str> = path.split('/').collect();
        let req = ImageRequest::parse_as(Version::V3, p[0], p[1], p[2], p[3]).unwrap();
        canonical_path_v3(&plan(&req, D, limits).unwrap(), D, limits)
    }

    #[test]
    fn canonical_forms_v3() {
        let c = |path: &str| canon3(path, &LIM);
        // §4.8 of 3.0: region as in 2.1; size `max`, `^max`, `w,h` or `^w,h`.
        assert_eq!(c("full/max/0/default.jpg"), "full/max/0/default.jpg");
        assert_eq!(c("full/1000,/0/default.jpg"), "full/max/0/default.jpg");
        assert_eq!(c("full/pct:100/0/default.jpg"), "full/max/0/default.jpg");
        assert_eq!(c("full/!2000,600/0/default.jpg"), "full/max/0/default.jpg");
        assert_eq!(c("full/500,/0/default.jpg"), "full/500,300/0/default.jpg");
        assert_eq!(c("full/,300/0/default.jpg"), "full/500,300/0/default.jpg");
        assert_eq!(c("full/pct:50/0/default.jpg"), "full/500,300/0/default.jpg");
        assert_eq!(
            c("full/!500,500/0/default.jpg"),
            "full/500,300/0/default.jpg"
        );
        assert_eq!(
            c("full/500,500/0/default.jpg"),
            "full/500,500/0/default.jpg"
        );
        assert_eq!(
            c("125,15,120,140/90,/!345/gray.jpg"),
            "125,15,120,140/90,105/!345/gray.jpg"
        );
        assert_eq!(
            c("square/max/90/color.png"),
            "200,0,600,600/max/90/color.png"
        );
        assert_eq!(
            c("full/^2000,/0/default.jpg"),
            "full/^2000,1200/0/default.jpg"
        );
        assert_eq!(
            c("full/^pct:150/0/default.jpg"),
            "full/^1500,900/0/default.jpg"
        );
        assert_eq!(c("full/^1000,/0/default.jpg"), "full/max/0/default.jpg");
        // `^max` within 5000×5000 and 25 Mpx: 5000 wide is the bound.
        assert_eq!(c("full/^max/0/default.jpg"), "full/^max/0/default.jpg");
        assert_eq!(
            c("full/^5000,3000/0/default.jpg"),
            "full/^max/0/default.jpg"
        );
        // When the limits are below the image, `max` is the largest size within them.
        let small = Limits {
            max_width: 400,
            ..LIM
        };
        assert_eq!(
            canon3("full/max/0/default.jpg", &small),
            "full/max/0/default.jpg"
        );
        assert_eq!(
            canon3("full/400,/0/default.jpg", &small),
            "full/max/0/default.jpg"
        );
        assert_eq!(
            canon3("full/300,/0/default.jpg", &small),
            "full/300,180/0/default.jpg"
        );
    }

    #[test]
    fn both_versions_name_the_same_pixels_alike_in_2_1() {
        // The cache key is the 2.1 form, whichever version asked.
        let v2 = ImageRequest::parse("full", "500,", "0", "default.jpg").unwrap();
        let v3 =
            ImageRequest::parse_as(Version::V3, "full", "500,300", "0", "default.jpg").unwrap();
        let (p2, p3) = (plan(&v2, D, &LIM).unwrap(), plan(&v3, D, &LIM).unwrap());
        assert_eq!(canonical_path(&p2, D), canonical_path(&p3, D));
        assert_eq!(
            canonical_for(Version::V3, &p2, D, &LIM),
            "full/500,300/0/default.jpg"
        );
    }

    #[test]
    fn square_of_square_image_is_full() {
        let d = Dimensions {
            width: 700,
            height: 700,
        };
        let req = ImageRequest::parse("square", "full", "0", "default.png").unwrap();
        assert_eq!(
            canonical_path(&plan(&req, d, &LIM).unwrap(), d),
            "full/full/0/default.png"
        );
    }
}
