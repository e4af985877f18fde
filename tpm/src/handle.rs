//! `TpmHandle`: the async face of the TPM worker. Cheap to clone, `Send + Sync`; each call becomes a job
//! on the worker's channel and its result comes back on a oneshot.

use std::{
    collections::BTreeMap,
    sync::{Arc, mpsc},
};

use tokio::sync::oneshot;
use zeroize::Zeroizing;

use super::{
    ak, certify,
    config::TpmConfig,
    credential, ek,
    error::TpmError,
    leftovers, pcr, quote,
    types::{AkInfo, Certification, EkInfo, PcrBank, Quote},
    unseal,
    worker::{self, Job, Tpm},
};

/// A connection to one TPM, owned by a dedicated worker thread. The worker stops (and flushes what
/// it holds) when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct TpmHandle {
    jobs: mpsc::Sender<Job>,
    tcti: Arc<str>,
    vendor: Arc<str>,
}

impl TpmHandle {
    /// Connects to the TPM at `config.tcti`, finds or creates the EK, and starts the worker.
    /// A missing TPM is `TpmError::NoTpm` ("no TPM at /dev/tpmrm0: ...").
    pub async fn connect(config: TpmConfig) -> Result<TpmHandle, TpmError> {
        let tcti: Arc<str> = Arc::from(config.tcti.as_str());
        let (jobs, connected) = worker::spawn(config).await?;
        Ok(TpmHandle {
            jobs,
            tcti,
            vendor: Arc::from(connected.vendor),
        })
    }

    /// The TCTI this handle talks to.
    pub fn tcti(&self) -> &str {
        &self.tcti
    }

    /// The TPM's vendor string (`"SW   TPM"` for swtpm, trimmed).
    pub fn vendor(&self) -> &str {
        &self.vendor
    }

    /// Runs `operation` on the worker, retrying it while the TPM is busy, and waits for its result.
    async fn call<T: Send + 'static>(
        &self,
        op: &'static str,
        mut operation: impl FnMut(&mut Tpm) -> Result<T, TpmError> + Send + 'static,
    ) -> Result<T, TpmError> {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |tpm: &mut Tpm| {
            let _ = reply.send(worker::retry_busy(op, || operation(tpm)));
        });
        self.jobs
            .send(job)
            .map_err(|_| TpmError::WorkerStopped { op })?;
        result.await.map_err(|_| TpmError::WorkerStopped { op })?
    }

    /// The EK public area (TPM2B_PUBLIC) and its certificate (DER from NV 0x01c00002), if any.
    pub async fn ek_public(&self) -> Result<EkInfo, TpmError> {
        self.call("ReadPublic(EK)", |tpm| ek::info(&mut tpm.ctx, tpm.ek))
            .await
    }

    /// Creates a new attestation key under the EK (RSA-2048, restricted, RSASSA-SHA256). It is not
    /// persisted: keep the returned blob and pass it to `activate_credential`/`quote`.
    pub async fn create_ak(&self) -> Result<AkInfo, TpmError> {
        self.call("Create(AK)", |tpm| ak::create(&mut tpm.ctx, tpm.ek))
            .await
    }

    /// ActivateCredential: recovers the secret the server wrapped to the EK for `ak`'s Name.
    /// `id_object` is the content of TPM2B_ID_OBJECT, `encrypted_secret` of TPM2B_ENCRYPTED_SECRET.
    pub async fn activate_credential(
        &self,
        ak: &AkInfo,
        id_object: &[u8],
        encrypted_secret: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, TpmError> {
        let (ak, id_object, encrypted_secret) =
            (ak.clone(), id_object.to_vec(), encrypted_secret.to_vec());
        self.call("ActivateCredential", move |tpm| {
            credential::activate(&mut tpm.ctx, tpm.ek, &ak, &id_object, &encrypted_secret)
        })
        .await
    }

    /// Quotes the PCRs `pcrs` of `bank` with `ak` over `nonce` (at most 64 bytes); the returned PCR
    /// values are the ones the quote covers (checked against the quote's digest).
    pub async fn quote(
        &self,
        ak: &AkInfo,
        nonce: &[u8],
        bank: PcrBank,
        pcrs: &[u32],
    ) -> Result<Quote, TpmError> {
        let (ak, nonce, pcrs) = (ak.clone(), nonce.to_vec(), pcrs.to_vec());
        self.call("Quote", move |tpm| {
            quote::quote(&mut tpm.ctx, tpm.ek, &ak, &nonce, bank, &pcrs)
        })
        .await
    }

    /// Imports an import blob made for the EK (sealed object public, duplicate, encrypted seed), loads
    /// it and unseals it under PolicyPCR over `pcrs` of `bank`. PCRs that differ from the sealing
    /// policy give `TpmError::Command` with `TPM_RC_POLICY_FAIL` from Unseal.
    pub async fn unseal_import_blob(
        &self,
        public: &[u8],
        duplicate: &[u8],
        encrypted_seed: &[u8],
        bank: PcrBank,
        pcrs: &[u32],
    ) -> Result<Zeroizing<Vec<u8>>, TpmError> {
        let blob = unseal::ImportBlob {
            public: public.to_vec(),
            duplicate: duplicate.to_vec(),
            encrypted_seed: encrypted_seed.to_vec(),
            bank,
            pcrs: pcrs.to_vec(),
        };
        self.call("Unseal", move |tpm| {
            unseal::unseal_import_blob(&mut tpm.ctx, tpm.ek, &blob)
        })
        .await
    }

    /// Certifies `subject` (a key made with `create_ak`) with `signer` over `nonce`.
    pub async fn certify(
        &self,
        signer: &AkInfo,
        subject: &AkInfo,
        nonce: &[u8],
    ) -> Result<Certification, TpmError> {
        let (signer, subject, nonce) = (signer.clone(), subject.clone(), nonce.to_vec());
        self.call("Certify", move |tpm| {
            certify::certify(&mut tpm.ctx, tpm.ek, &signer, &subject, &nonce)
        })
        .await
    }

    /// Reads PCRs `pcrs` of `bank`.
    pub async fn read_pcrs(
        &self,
        bank: PcrBank,
        pcrs: &[u32],
    ) -> Result<BTreeMap<u32, Vec<u8>>, TpmError> {
        let pcrs = pcrs.to_vec();
        self.call("PCR_Read", move |tpm| {
            let indices = pcr::indices(&pcrs, "PCR_Read")?;
            pcr::read(&mut tpm.ctx, bank, &indices)
        })
        .await
    }

    /// Extends PCR `index` of the SHA-256 bank with SHA-256(`data`) (tests and demos: use PCR 16 or 23).
    pub async fn extend_pcr(&self, index: u32, data: &[u8]) -> Result<(), TpmError> {
        let data = data.to_vec();
        self.call("PCR_Extend", move |tpm| {
            pcr::extend(&mut tpm.ctx, index, &data)
        })
        .await
    }

    /// How many transient objects and loaded sessions the TPM holds right now (all clients together);
    /// with a persistent EK and no operation running, both are 0.
    pub async fn loaded_handles(&self) -> Result<LoadedHandles, TpmError> {
        self.call("GetCapability(handles)", |tpm| {
            let (transient_objects, sessions) = leftovers::count_loaded(&mut tpm.ctx)?;
            Ok(LoadedHandles {
                transient_objects,
                sessions,
            })
        })
        .await
    }
}

/// What `TpmHandle::loaded_handles` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadedHandles {
    /// Transient objects (swtpm has 3 slots).
    pub transient_objects: usize,
    /// Loaded HMAC and policy sessions.
    pub sessions: usize,
}
