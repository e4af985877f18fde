//! A hook on every Google API call the clients make (`compute.instances.get`, ...,
//! `logging.entries.list`): its API name, how long it took, and how it failed, if it did. The token
//! server's metrics attach to it; without an observer a call costs one `Instant::now()`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use google_cloud_gax::error::Error as GaxError;
use tokendist_core::evidence::{FetchError, FetchErrorKind, Fetched};

use crate::fetch_error::from_gax;

/// Told about every call.
pub trait CallObserver: Send + Sync + std::fmt::Debug {
    /// `api` took `elapsed` and ended in `outcome` (`Err` with the failure's kind).
    fn observe(&self, api: &str, elapsed: Duration, outcome: Result<(), FetchErrorKind>);
}

/// The observer of one client, if any. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observer(Option<Arc<dyn CallObserver>>);

impl Observer {
    pub(crate) fn new(observer: Arc<dyn CallObserver>) -> Self {
        Self(Some(observer))
    }

    /// Awaits `request` (one API call), maps its error to a [`FetchError`] through `log`, and
    /// reports it as `api`.
    pub(crate) async fn call<T>(
        &self,
        api: &str,
        request: impl Future<Output = Result<T, GaxError>>,
        log: fn(FetchError) -> FetchError,
    ) -> Fetched<T> {
        let started = Instant::now();
        let result = request.await.map_err(|e| log(from_gax(api, &e)));
        if let Some(observer) = &self.0 {
            let outcome = result.as_ref().map(|_| ()).map_err(|e| e.kind);
            observer.observe(api, started.elapsed(), outcome);
        }
        result
    }
}
