//! `RunningSim`: binds the API listener and one metadata listener per VM, serves until shut down.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::SimError;
use crate::handle::SimHandle;
use crate::http;
use crate::scenario::Scenario;
use crate::world::World;

/// How to start a simulator beyond its scenario and address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimOptions {
    /// `HOST:PORT` of the Pub/Sub emulator that Logging sinks publish to (as `PUBSUB_EMULATOR_HOST`);
    /// without it, creating a Pub/Sub sink is refused.
    pub pubsub_emulator: Option<String>,
}

/// A started simulator. Stops on `shutdown()` or when dropped.
#[derive(Debug)]
pub struct RunningSim {
    /// Compute (`/compute/v1/`), Logging (`/v2/entries:list`), JWKS (`/oauth2/v3/certs`), admin (`/admin/v1/`).
    pub api: SocketAddr,
    /// One metadata server per VM, by VM name.
    pub metadata: BTreeMap<String, SocketAddr>,
    handle: SimHandle,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Delivers routed log entries to Pub/Sub; aborted on shutdown.
    publisher: Option<JoinHandle<()>>,
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, SimError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| SimError::Bind { addr, source })
}

impl RunningSim {
    /// Starts every listener on port 0 of `listen_ip`.
    pub async fn start(scenario: Scenario, listen_ip: IpAddr) -> Result<RunningSim, SimError> {
        RunningSim::start_at(scenario, SocketAddr::new(listen_ip, 0)).await
    }

    /// Starts the API listener on `api_addr` (port 0 = any) and metadata listeners on port 0 of its IP.
    pub async fn start_at(
        scenario: Scenario,
        api_addr: SocketAddr,
    ) -> Result<RunningSim, SimError> {
        RunningSim::start_with(scenario, api_addr, SimOptions::default()).await
    }

    /// As [`RunningSim::start_at`], with `options` (the Pub/Sub emulator for sinks).
    pub async fn start_with(
        scenario: Scenario,
        api_addr: SocketAddr,
        options: SimOptions,
    ) -> Result<RunningSim, SimError> {
        let mut world = World::new(&scenario)?;
        let mut tasks = Vec::new();
        let publisher = options.pubsub_emulator.map(|host| {
            let (outbox, queue) = tokio::sync::mpsc::unbounded_channel();
            world.sinks = crate::sinks::Sinks::with_outbox(Some(outbox));
            crate::publisher::start(host, queue)
        });
        let handle = SimHandle::new(world);
        let (stop, stopped) = watch::channel(false);
        let api_listener = bind(api_addr).await?;
        let api = api_listener.local_addr().map_err(|source| SimError::Bind {
            addr: api_addr,
            source,
        })?;
        tasks.push(serve(
            api_listener,
            http::api_router(handle.clone()),
            stopped.clone(),
        ));
        let mut metadata = BTreeMap::new();
        for vm in &scenario.vms {
            let addr = SocketAddr::new(api_addr.ip(), 0);
            let listener = bind(addr).await?;
            let bound = listener
                .local_addr()
                .map_err(|source| SimError::Bind { addr, source })?;
            tasks.push(serve(
                listener,
                http::metadata_router(handle.clone(), vm.name.clone()),
                stopped.clone(),
            ));
            metadata.insert(vm.name.clone(), bound);
        }
        tracing::info!(%api, vms = metadata.len(), "gcpsim listening");
        Ok(RunningSim {
            api,
            metadata,
            handle,
            stop,
            tasks,
            publisher,
        })
    }

    /// A cloneable handle for admin operations and state inspection.
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }

    /// `http://IP:PORT` of the API listener.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api)
    }

    /// `http://IP:PORT` of a VM's metadata server.
    pub fn metadata_url(&self, vm: &str) -> Option<String> {
        self.metadata.get(vm).map(|addr| format!("http://{addr}"))
    }

    /// Stops every listener and waits for the servers to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(publisher) = self.publisher.take() {
            publisher.abort();
        }
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.iter().chain(&self.publisher) {
            task.abort();
        }
    }
}

fn serve(
    listener: TcpListener,
    router: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "gcpsim listener failed");
        }
    })
}
