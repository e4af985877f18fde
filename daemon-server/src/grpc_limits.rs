//! Size limits answered in gRPC's own terms (RESOURCE_EXHAUSTED, as every gRPC implementation
//! reports an exceeded size limit), as a tower layer around every gRPC service of the server.
//!
//! - Request metadata: a header block over [`MAX_HEADER_LIST_BYTES`] is answered with a trailers-only
//!   RESOURCE_EXHAUSTED before any service sees it. HTTP/2 itself is configured with a hard limit
//!   twice as large ([`HARD_MAX_HEADER_LIST_BYTES`], SETTINGS_MAX_HEADER_LIST_SIZE): beyond that,
//!   h2 answers HTTP 431 itself (clients see UNKNOWN) before any request exists — h2 writes that
//!   response on its own, so only the band below the hard limit can be answered in gRPC's terms, and
//!   the hard limit bounds what one header block may cost in memory.
//! - Request messages: tonic's decoder refuses a message over its maximum (4 MiB) with OUT_OF_RANGE;
//!   the layer answers RESOURCE_EXHAUSTED instead, with tonic's message. The server's own errors are
//!   never OUT_OF_RANGE ([`crate::status::ServiceError::code`]), so that code can only be the
//!   decoder's size limit.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::codegen::http;

/// Largest request header block answered normally (HPACK size: name + value + 32 per field).
pub const MAX_HEADER_LIST_BYTES: usize = 64 * 1024;
/// HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE: beyond it h2 refuses the stream with HTTP 431.
pub const HARD_MAX_HEADER_LIST_BYTES: u32 = 2 * 64 * 1024;

/// Wraps a gRPC service with [`GrpcLimits`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcLimitsLayer;

impl<S> tower::Layer<S> for GrpcLimitsLayer {
    type Service = GrpcLimits<S>;

    fn layer(&self, inner: S) -> GrpcLimits<S> {
        GrpcLimits { inner }
    }
}

/// A gRPC service whose size limits are reported as RESOURCE_EXHAUSTED.
#[derive(Debug, Clone)]
pub struct GrpcLimits<S> {
    inner: S,
}

type ResponseFuture<E> =
    Pin<Box<dyn Future<Output = Result<http::Response<tonic::body::Body>, E>> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for GrpcLimits<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let size = header_list_size(request.headers());
        if size > MAX_HEADER_LIST_BYTES {
            tracing::info!(
                bytes = size,
                "request metadata over the limit; answered RESOURCE_EXHAUSTED"
            );
            let status = tonic::Status::resource_exhausted(format!(
                "request metadata too large: {size} bytes, the limit is {MAX_HEADER_LIST_BYTES} bytes"
            ));
            return Box::pin(std::future::ready(Ok(status.into_http())));
        }
        let response = self.inner.call(request);
        Box::pin(async move { response.await.map(size_limit_as_resource_exhausted) })
    }
}

/// The size of a header block as HTTP/2 counts it (RFC 9113 §6.5.2).
fn header_list_size(headers: &http::HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum()
}

/// A trailers-only OUT_OF_RANGE answer (tonic's decoder: message over the maximum) becomes
/// RESOURCE_EXHAUSTED with the same message; every other response passes unchanged.
fn size_limit_as_resource_exhausted(
    mut response: http::Response<tonic::body::Body>,
) -> http::Response<tonic::body::Body> {
    let Some(status) = tonic::Status::from_header_map(response.headers()) else {
        return response;
    };
    if status.code() != tonic::Code::OutOfRange {
        return response;
    }
    let exhausted = tonic::Status::resource_exhausted(status.message());
    if let Err(error) = exhausted.add_header(response.headers_mut()) {
        tracing::warn!(%error, "could not rewrite an OUT_OF_RANGE size-limit answer");
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tower::{Layer as _, Service as _};

    /// A service that answers every request with `status`.
    #[derive(Clone)]
    struct Answers(tonic::Status);

    impl tower::Service<http::Request<()>> for Answers {
        type Response = http::Response<tonic::body::Body>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            std::future::ready(Ok(self.0.clone().into_http()))
        }
    }

    async fn answer(status: tonic::Status, request: http::Request<()>) -> tonic::Status {
        let mut service = GrpcLimitsLayer.layer(Answers(status));
        let response = service.call(request).await.unwrap();
        tonic::Status::from_header_map(response.headers()).unwrap()
    }

    fn request_with_header(bytes: usize) -> http::Request<()> {
        let mut request = http::Request::new(());
        request
            .headers_mut()
            .insert("authorization", "A".repeat(bytes).parse().unwrap());
        request
    }

    #[tokio::test]
    async fn the_decoders_out_of_range_becomes_resource_exhausted_with_its_message() {
        let message = "Error, decoded message length too large: found 10485760 bytes, the limit is: 4194304 bytes";
        let status = answer(tonic::Status::out_of_range(message), http::Request::new(())).await;
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert_eq!(status.message(), message);
    }

    #[tokio::test]
    async fn other_answers_pass_unchanged() {
        for code in [
            tonic::Code::Ok,
            tonic::Code::PermissionDenied,
            tonic::Code::Unauthenticated,
            tonic::Code::InvalidArgument,
        ] {
            let status = answer(tonic::Status::new(code, "as is"), http::Request::new(())).await;
            assert_eq!((status.code(), status.message()), (code, "as is"));
        }
    }

    #[tokio::test]
    async fn metadata_over_the_limit_is_resource_exhausted_and_under_it_reaches_the_service() {
        let under = answer(
            tonic::Status::unauthenticated("reached"),
            request_with_header(MAX_HEADER_LIST_BYTES - 100),
        )
        .await;
        assert_eq!(under.code(), tonic::Code::Unauthenticated);
        let over = answer(
            tonic::Status::unauthenticated("reached"),
            request_with_header(MAX_HEADER_LIST_BYTES),
        )
        .await;
        assert_eq!(over.code(), tonic::Code::ResourceExhausted);
        assert!(over.message().contains("metadata too large"), "{over:?}");
        assert!(HARD_MAX_HEADER_LIST_BYTES as usize > MAX_HEADER_LIST_BYTES);
    }
}
