//! The canonical URI form of an image request (§4.7), used for the `rel="canonical"` Link
//! header and as the cache key of encoded responses.

use super::geometry::{full_rect, proportional, Dimensions, Plan};
use super::number::format_decimal;

/// The canonical `{region}/{size}/{rotation}/{quality}.{format}` path of a resolved request.
pub fn canonical_path(plan: &Plan, dims: Dimensions) -> String {
    let r = plan.region;
    let region = if r == full_rect(dims) {
        "full".to_string()
    } else {
        format!("{},{},{},{}", r.x, r.y, r.w, r.h)
    };
    let size = if (plan.width, plan.height) == (r.w, r.h) {
        "full".to_string()
    } else if proportional(r.w, r.h, plan.width) == plan.height {
        format!("{},", plan.width)
    } else {
        format!("{},{}", plan.width, plan.height)
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
