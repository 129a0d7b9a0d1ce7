//! The HTTP edge of the webhook function: the Function URL's event (API Gateway HTTP API payload
//! 2.0) in, its answer out. The request is read from the event's parts as they are, never
//! through a URI: `lambda_http` builds one from the query string and the `Host` and
//! `X-Forwarded-Proto` headers, and panics on those a URI cannot carry (a raw space, a quote),
//! which anyone can send. Nothing here can fail: whatever the event holds is answered.

use base64::Engine;
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, Method};

pub use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest as FunctionUrlRequest;
pub use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse as FunctionUrlResponse;

/// What the delivery reads of a request.
#[derive(Debug)]
pub struct Inbound {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    /// The body's bytes; `None` when the event says it is base64 and it is not.
    pub body: Option<Vec<u8>>,
    /// The address the request came from, as the Function URL saw it.
    pub source_ip: Option<String>,
    /// When the request reached the Function URL (ms since the epoch), when the event says.
    pub time_epoch_ms: i64,
}

impl Inbound {
    pub fn from_event(event: FunctionUrlRequest) -> Self {
        let context = event.request_context;
        let body = event.body.unwrap_or_default();
        let body = if event.is_base64_encoded {
            base64::engine::general_purpose::STANDARD
                .decode(body.as_bytes())
                .ok()
        } else {
            Some(body.into_bytes())
        };
        Inbound {
            method: context.http.method,
            path: event.raw_path.or(context.http.path).unwrap_or_default(),
            headers: event.headers,
            body,
            source_ip: context.http.source_ip,
            time_epoch_ms: context.time_epoch,
        }
    }
}

/// How an answer goes back: its status, its extra headers (`Retry-After`, `Allow`), its JSON
/// body.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<HeaderValue>,
    pub allow: Option<HeaderValue>,
    pub body: String,
}

impl From<Answer> for FunctionUrlResponse {
    fn from(answer: Answer) -> Self {
        let mut response = FunctionUrlResponse::default();
        response.status_code = i64::from(answer.status);
        response
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(retry_after) = answer.retry_after {
            response.headers.insert(RETRY_AFTER, retry_after);
        }
        if let Some(allow) = answer.allow {
            response.headers.insert(ALLOW, allow);
        }
        response.body = Some(lambda_http::Body::Text(answer.body));
        response
    }
}
