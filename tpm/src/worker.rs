//! The one thread that owns the `tss_esapi::Context`: it connects, then runs jobs sent over a channel
//! one at a time (the TPM has 3 object slots; operations must not interleave), retrying those the TPM
//! answers "busy" with a short, bounded backoff. It never panics: a panic inside tss-esapi is caught,
//! logged and reported to that one caller, and the worker goes on.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
    time::Duration,
};

use tokio::sync::oneshot;
use tss_esapi::{Context, constants::StartupType};

use super::{config::TpmConfig, ek, error::TpmError, leftovers};

/// What a job gets: the TPM connection and the EK every operation needs.
#[derive(Debug)]
pub(crate) struct Tpm {
    pub(crate) ctx: Context,
    pub(crate) ek: ek::Ek,
}

/// A request to the worker. The closure sends its own reply over a oneshot.
pub(crate) type Job = Box<dyn FnOnce(&mut Tpm) + Send>;

/// How often a busy TPM is asked again, and the first wait (doubled each time: 10, 20, 40, 80 ms).
const BUSY_ATTEMPTS: u32 = 5;
const BUSY_FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// Whether this process already warned that its TPM is a software one.
static SOFTWARE_TPM_WARNED: AtomicBool = AtomicBool::new(false);

/// What `connect` learned about the TPM.
#[derive(Debug)]
pub(crate) struct Connected {
    pub(crate) vendor: String,
}

/// Starts the worker thread and waits until it has connected (or failed to).
pub(crate) async fn spawn(config: TpmConfig) -> Result<(mpsc::Sender<Job>, Connected), TpmError> {
    let (jobs, inbox) = mpsc::channel::<Job>();
    let (ready_tx, ready_rx) = oneshot::channel();
    thread::Builder::new()
        .name("tpm-worker".into())
        .spawn(move || match connect(&config) {
            Ok((tpm, connected)) => {
                if ready_tx.send(Ok(connected)).is_ok() {
                    run(tpm, &inbox);
                }
            }
            Err(error) => {
                let _ = ready_tx.send(Err(error));
            }
        })
        .map_err(|error| TpmError::Library {
            op: "start TPM worker thread",
            detail: error.to_string(),
        })?;
    let connected = ready_rx
        .await
        .map_err(|_| TpmError::WorkerStopped { op: "connect" })??;
    Ok((jobs, connected))
}

fn connect(config: &TpmConfig) -> Result<(Tpm, Connected), TpmError> {
    let tcti = config.tcti_name_conf()?;
    if let Some(path) = config.device_path() {
        std::fs::metadata(path).map_err(|error| TpmError::NoTpm {
            tcti: path.to_owned(),
            reason: error.to_string(),
        })?;
    }
    let mut ctx = Context::new(tcti).map_err(|error| TpmError::NoTpm {
        tcti: config.tcti.clone(),
        reason: match super::rc::from_tss_error(&error) {
            Some(code) => format!("libtss2 could not open the TCTI ({code})"),
            None => error.to_string(),
        },
    })?;
    if config.device_path().is_none() {
        // A simulator may not be started yet; on a started TPM, ESYS swallows TPM_RC_INITIALIZE.
        ctx.startup(StartupType::Clear)
            .map_err(TpmError::during("Startup"))?;
    }
    if config.flush_leftovers_on_connect {
        leftovers::flush_leftovers(&mut ctx)?;
    }
    let vendor = tss_esapi::utils::get_tpm_vendor(&mut ctx)
        .map_err(TpmError::during("GetCapability(vendor)"))?;
    // Once per process: the TPM is opened for every attempt, and one line says it all. A software TPM
    // behind a device path is a surprise (warning); one named by a simulator TCTI was chosen (info).
    if vendor.contains("SW") && !SOFTWARE_TPM_WARNED.swap(true, Ordering::Relaxed) {
        if config.device_path().is_some() {
            tracing::warn!(vendor = %vendor.trim(), tcti = %config.tcti, "INSECURE: the TPM device is a software TPM, fine for tests and demos only");
        } else {
            tracing::info!(vendor = %vendor.trim(), tcti = %config.tcti, "software TPM (a simulator TCTI was configured): fine for tests and demos only");
        }
    }
    let ek = retry_busy("EK", || ek::find_or_create(&mut ctx))?;
    tracing::info!(tcti = %config.tcti, persistent_ek = ek.persistent, "connected to the TPM");
    Ok((
        Tpm { ctx, ek },
        Connected {
            vendor: vendor.trim().to_owned(),
        },
    ))
}

fn run(mut tpm: Tpm, inbox: &mpsc::Receiver<Job>) {
    while let Ok(job) = inbox.recv() {
        if catch_unwind(AssertUnwindSafe(|| job(&mut tpm))).is_err() {
            tracing::error!(
                "a TPM operation panicked inside tss-esapi; its caller got an error, the worker goes on"
            );
        }
    }
    tracing::debug!("every TPM handle was dropped; closing the TPM connection");
}

/// Runs `attempt` until it succeeds, fails for another reason than "busy", or was tried
/// `BUSY_ATTEMPTS` times. Safe because every operation flushes what it loaded on every path.
pub(crate) fn retry_busy<T>(
    op: &'static str,
    mut attempt: impl FnMut() -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let mut backoff = BUSY_FIRST_BACKOFF;
    for attempts in 1..=BUSY_ATTEMPTS {
        match attempt() {
            Err(error) if error.is_busy() => {
                if attempts == BUSY_ATTEMPTS {
                    let code = error.response_code().unwrap_or(super::rc::ResponseCode(0));
                    return Err(TpmError::Busy { op, attempts, code });
                }
                tracing::debug!(op, attempts, %error, "TPM busy; asking again");
                thread::sleep(backoff);
                backoff *= 2;
            }
            result => return result,
        }
    }
    Err(TpmError::WorkerStopped { op })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rc::ResponseCode;

    #[test]
    fn busy_tpm_is_asked_again_until_it_answers() {
        let mut calls = 0;
        let result = retry_busy("Quote", || {
            calls += 1;
            if calls < 3 {
                Err(TpmError::Command {
                    op: "Quote",
                    code: ResponseCode(0x922),
                })
            } else {
                Ok(7)
            }
        });
        assert_eq!(result.ok(), Some(7));
        assert_eq!(calls, 3);
    }

    #[test]
    fn tpm_busy_on_every_attempt_gives_a_busy_error() {
        let mut calls = 0;
        let result: Result<(), _> = retry_busy("Quote", || {
            calls += 1;
            Err(TpmError::Command {
                op: "Quote",
                code: ResponseCode(0x908),
            })
        });
        assert!(
            matches!(
                result,
                Err(TpmError::Busy {
                    op: "Quote",
                    attempts: 5,
                    ..
                })
            ),
            "{result:?}"
        );
        assert_eq!(calls, 5);
    }

    #[test]
    fn other_errors_are_not_retried() {
        let mut calls = 0;
        let result: Result<(), _> = retry_busy("Unseal", || {
            calls += 1;
            Err(TpmError::Command {
                op: "Unseal",
                code: ResponseCode(0x99d),
            })
        });
        assert_eq!(
            result.err().and_then(|e| e.response_code_name()),
            Some("TPM_RC_POLICY_FAIL")
        );
        assert_eq!(calls, 1);
    }
}
