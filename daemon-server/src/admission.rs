//! Admission control: at most `admission.max_in_progress` RPCs are served at once. A call that finds
//! none free waits up to `admission.queue_wait_ms` for one and is then refused RESOURCE_EXHAUSTED
//! ("server busy"), so an overloaded server fails a few callers fast and keeps serving the rest,
//! instead of every release slowing until the evidence timeout fails them all together.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The server-wide bound on RPCs in progress. Its size is fixed at start.
#[derive(Debug)]
pub struct Admission {
    permits: Arc<Semaphore>,
    capacity: usize,
}

/// No place became free within the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    /// RPCs in progress (the bound).
    pub in_progress: usize,
}

impl Admission {
    /// A bound of `capacity` RPCs in progress (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }

    /// The bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// A place for one RPC, held until the permit is dropped; waits up to `wait` for one.
    pub async fn enter(&self, wait: Duration) -> Result<OwnedSemaphorePermit, Busy> {
        let busy = Busy {
            in_progress: self.capacity,
        };
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        match tokio::time::timeout(wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or the semaphore was closed (it never is).
            Ok(Err(_)) | Err(_) => Err(busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_server_refuses_after_the_wait_and_admits_once_a_place_frees() {
        let admission = Admission::new(2);
        let first = admission.enter(Duration::ZERO).await.unwrap();
        let _second = admission.enter(Duration::ZERO).await.unwrap();
        assert_eq!(
            admission
                .enter(Duration::from_millis(20))
                .await
                .unwrap_err(),
            Busy { in_progress: 2 }
        );
        drop(first);
        assert!(admission.enter(Duration::ZERO).await.is_ok());
    }

    #[tokio::test]
    async fn a_waiting_call_gets_the_place_released_during_its_wait() {
        let admission = Arc::new(Admission::new(1));
        let held = admission.enter(Duration::ZERO).await.unwrap();
        let waiter = {
            let admission = Arc::clone(&admission);
            tokio::spawn(async move { admission.enter(Duration::from_secs(30)).await.is_ok() })
        };
        tokio::task::yield_now().await;
        drop(held);
        assert!(waiter.await.unwrap());
    }

    #[test]
    fn the_bound_is_at_least_one() {
        assert_eq!(Admission::new(0).capacity(), 1);
    }
}
