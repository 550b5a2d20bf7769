//! [`AppError`] as an HTTP answer: its status and the JSON body `{"error", "message"}`.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use idv_types::ApiError;

use crate::error::AppError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match &self {
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                "internal error; the operator's log has the details".to_string()
            }
            AppError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                "the service is temporarily unavailable; retry shortly".to_string()
            }
            other => other.to_string(),
        };
        let body = ApiError {
            error: self.code().to_string(),
            message,
        };
        let mut res = (status, Json(body)).into_response();
        if let AppError::TooManyRequests(_, secs) = &self {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*secs).into());
        }
        res
    }
}
