//! One error type for every HTTP answer that is not a success, with its §7 status code and a
//! short plain-text message.

use crate::iiif::geometry::GeometryError;
use crate::iiif::path::PathError;
use crate::source::SourceError;
use crate::storage::{Remote, StorageError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An HTTP error answer.
#[derive(Debug, Clone)]
pub enum Error {
    /// 400: the client's request is malformed or asks for nothing.
    BadRequest(String),
    /// 401: credentials are required, or the API key is unknown.
    Unauthorized(String),
    /// 403: the key presented may not see this resource.
    Forbidden(String),
    /// 404: unknown identifier, or a size above the limits.
    NotFound(String),
    /// 503: all workers busy and the queue full; retry shortly.
    Busy,
    /// 503: a passing condition (the source changed while read, a request took too long);
    /// retry shortly.
    Retry(String),
    /// 502, 503 or 504: the image store failed, refused or was too slow; retry later.
    Upstream(StatusCode, String),
    /// 500: the server failed (for example a corrupt source file).
    Internal(String),
}

impl Error {
    /// The status code of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Busy | Error::Retry(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Upstream(status, _) => *status,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<PathError> for Error {
    fn from(e: PathError) -> Self {
        match e {
            PathError::NoSuchResource => Error::NotFound(
                "no image with this identifier (slashes in an identifier must be sent as %2F)"
                    .into(),
            ),
            PathError::BadIdentifier(m) => Error::BadRequest(m),
            PathError::Parameter(p) => Error::BadRequest(p.to_string()),
        }
    }
}

impl From<GeometryError> for Error {
    fn from(e: GeometryError) -> Self {
        match e {
            GeometryError::TooLarge { .. } => Error::NotFound(e.to_string()),
            _ => Error::BadRequest(e.to_string()),
        }
    }
}

impl From<crate::service::ServiceError> for Error {
    /// The one mapping of service failures to status codes (restricted images are mapped by
    /// the handler, as the configuration says: see [`super::AppState::refuse`]).
    fn from(e: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError as S;
        match e {
            S::NotFound(_) | S::Restricted(_) => Error::NotFound(e.to_string()),
            S::Geometry(g) => g.into(),
            S::Source { asked, source } => Error::from_source(source, &asked),
            S::Render { .. } => {
                let report = crate::report::chain(&e);
                tracing::error!(error = %report, "rendering failed");
                Error::Internal(report)
            }
            S::Changed(_) => Error::Retry(e.to_string()),
        }
    }
}

impl Error {
    /// Maps a source failure for identifier `id`, logging server-side faults.
    pub fn from_source(e: SourceError, id: &str) -> Self {
        match e {
            SourceError::NotFound => Error::NotFound(format!("no image with identifier {id:?}")),
            SourceError::Storage(StorageError::Remote { kind, message }) => {
                tracing::warn!(identifier = id, error = %message, "image store: {kind}");
                let status = match kind {
                    Remote::Timeout => StatusCode::GATEWAY_TIMEOUT,
                    Remote::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                    Remote::Refused | Remote::BadAnswer => StatusCode::BAD_GATEWAY,
                };
                Error::Upstream(status, format!("{kind}; retry later"))
            }
            SourceError::Storage(StorageError::Changed(_)) => {
                Error::Retry(format!("image {id:?} changed while being read; retry"))
            }
            other => {
                let report = crate::report::chain(&other);
                tracing::error!(identifier = id, error = %report, "source failed");
                Error::Internal(format!("image {id:?}: {report}"))
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Error::BadRequest(m)
            | Error::Unauthorized(m)
            | Error::Forbidden(m)
            | Error::NotFound(m)
            | Error::Retry(m)
            | Error::Upstream(_, m)
            | Error::Internal(m) => m.clone(),
            Error::Busy => "server busy, retry shortly".to_string(),
        };
        let shed = matches!(self, Error::Busy);
        let mut resp = (status, format!("{status}: {message}\n")).into_response();
        if shed {
            resp.extensions_mut().insert(super::observe::Shed);
        }
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        } else if matches!(self, Error::Upstream(..)) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp
    }
}
