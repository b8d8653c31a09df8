//! Error reports: an error and every cause under it on one line (`outer: cause: root
//! cause`), for logs, batch reports and the short messages of server faults. Errors keep
//! their causes as `source()`s; only a report flattens them.

use std::error::Error;

/// `e` and its causes, joined with `": "`.
pub fn chain(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceError;

    #[test]
    fn a_report_names_every_cause() {
        let io = std::io::Error::other("disk on fire");
        let e = SourceError::codec("TIFF", io);
        assert!(e.source().is_some(), "the cause is kept");
        assert_eq!(chain(&e), "cannot decode TIFF: disk on fire");
        let e = crate::service::ServiceError::Source {
            asked: "x".into(),
            source: e,
        };
        assert_eq!(chain(&e), "image \"x\": cannot decode TIFF: disk on fire");
    }

    #[test]
    fn a_storage_failure_never_names_the_key_behind_an_alias() {
        use crate::storage::StorageError;
        let io = StorageError::io("hidden-master.jpg", std::io::Error::other("boom"));
        let e = crate::service::ServiceError::Source {
            asked: "R-77".into(),
            source: SourceError::from(io),
        };
        let report = chain(&e);
        assert_eq!(
            report,
            "image \"R-77\": cannot read image: cannot read the source: boom"
        );
        assert!(!report.contains("hidden"));
    }
}
