//! Flow tests of the console without a terminal: the pure update function and the real effects
//! runner against a SQLite store and gcpsim on the demo scenario. Open → filter → select → approve
//! → confirm leaves a signed approval in the store; revoke likewise.

use std::time::Duration;

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokendist_core::approval::verify;
use tokendist_core::keys::ed25519_public_from_pem;
use tokendist_store::{FailedCheck, PendingAttempt};
use tokendist_testkit::demo::{
    GOOD_DIGEST, GOOD_VM, GOOD_VM_ID, PROJECT, SERVICE_ACCOUNT, ZONE, demo_scenario,
    demo_template_settings,
};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::effects::{EffectFiles, Effects};
use super::event::Event;
use super::keymap::Keymap;
use super::model::{Dialog, Model, PlanState, Tone};
use super::update::update;
use crate::operations::{Context, ContextOptions};

/// The model, the real effects runner and the channel its results come back on.
struct Driver {
    model: Model,
    effects: Effects,
    results: UnboundedReceiver<Event>,
}

impl Driver {
    fn apply(&mut self, event: Event) {
        for command in update(&mut self.model, event) {
            self.effects.run(command);
        }
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.apply(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// Feeds background results into the model until `done` holds (at most 60 s).
    async fn settle(&mut self, what: &str, done: impl Fn(&Model) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !done(&self.model) {
            let event = tokio::time::timeout_at(deadline, self.results.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", self.model.status))
                .unwrap();
            self.apply(event);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_then_revoke_through_the_console_writes_signed_records() {
    let sim = tokendist_testkit::gcpsim::start(demo_scenario()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(
        path("settings.toml"),
        format!(
            "trusted_container_digests = [\"{GOOD_DIGEST}\"]\n{}",
            demo_template_settings()
        ),
    )
    .unwrap();
    std::fs::write(
        path("secrets.json"),
        r#"[{"name":"db-password","type":"RAW","data":"c2VjcmV0"}]"#,
    )
    .unwrap();
    crate::keygen::approval_keys(&path("alice"), false).unwrap();
    crate::keygen::server_keys(&path("server"), false).unwrap();
    let options = ContextOptions {
        store_url: format!("sqlite://{}", path("tokendist.db").display()),
        create: true,
        compute_endpoint: Some(sim.api_url()),
        logging_endpoint: Some(sim.api_url()),
        gcp_anonymous: true,
        settings_path: Some(path("settings.toml")),
        ..ContextOptions::default()
    };
    let ctx = Context::open(&options).await.unwrap();
    let store = ctx.store.clone();
    // The good VM asked for secrets and was denied for want of an approval.
    store
        .upsert_pending(&PendingAttempt {
            instance_id: GOOD_VM_ID.into(),
            project: PROJECT.into(),
            zone: ZONE.into(),
            instance_name: GOOD_VM.into(),
            service_account: SERVICE_ACCOUNT.into(),
            seen_at: Utc::now(),
            peer_address: None,
            failed_checks: vec![FailedCheck {
                name: "approval.state".into(),
                reason: "no approval".into(),
            }],
            last_quote: None,
            checks_evaluated: Some(1),
        })
        .await
        .unwrap();
    let (sender, results) = unbounded_channel();
    let effects = Effects::new(
        ctx,
        EffectFiles {
            approver_key: Some(path("alice.key")),
            server_key: Some(path("server/secrets.pub")),
            secrets_dir: dir.path().to_owned(),
        },
        sender,
    );
    let mut driver = Driver {
        model: Model::new(Keymap::default(), false, Utc::now()),
        effects,
        results,
    };

    // Open: the first tick loads the list, the first VM's detail follows.
    driver.apply(Event::Tick(Utc::now()));
    driver
        .settle("the list", |m| m.list.loaded_at.is_some())
        .await;
    // Filter and select.
    driver.keys("/");
    driver.keys(GOOD_VM);
    driver.key(KeyCode::Enter);
    assert_eq!(driver.model.list.selected.as_deref(), Some(GOOD_VM_ID));
    driver
        .settle("the detail", |m| m.selected_detail().is_some())
        .await;
    // Approve: choose the secrets file, encrypt to the server (no TPM in this test), confirm.
    driver.keys("a");
    driver
        .settle(
            "the secrets files",
            |m| matches!(&m.dialog, Some(Dialog::Approve(d)) if !d.secrets_choices.is_empty()),
        )
        .await;
    driver.key(KeyCode::Right);
    driver.key(KeyCode::Tab);
    driver.keys(" ");
    driver.key(KeyCode::Tab);
    driver
        .settle("the plan", |m| {
            matches!(&m.dialog, Some(Dialog::Approve(d)) if !matches!(d.plan, PlanState::Loading))
        })
        .await;
    let Some(Dialog::Approve(dialog)) = &driver.model.dialog else {
        panic!("the dialog closed: {:?}", driver.model.status);
    };
    let PlanState::Ready(plan) = &dialog.plan else {
        panic!("no plan: {:?}", dialog.plan);
    };
    assert_eq!(plan.instance_id, GOOD_VM_ID);
    // The focus is on the expiry field; Enter goes to the buttons (after a reason when needed).
    if !plan.failed_checks.is_empty() {
        driver.key(KeyCode::Tab);
        driver.keys("reviewed in the console flow test");
    }
    driver.key(KeyCode::Enter);
    driver.keys("y");
    assert!(driver.model.busy.is_some(), "{:?}", driver.model.dialog);
    driver.settle("the approval", |m| m.busy.is_none()).await;
    let status = driver.model.status.clone().unwrap();
    assert_eq!(status.tone, Tone::Success, "{status:?}");
    let alice =
        ed25519_public_from_pem(&std::fs::read_to_string(path("alice.pub")).unwrap()).unwrap();
    let approval = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    verify(&approval, &[alice]).unwrap();
    assert_eq!(approval.secrets.len(), 1);
    assert!(approval.revoked_at.is_none());
    assert!(store.get_pending(GOOD_VM_ID).await.unwrap().is_none());

    // The list refreshes: the VM is approved now. Revoke it.
    driver
        .settle("the refreshed list", |m| {
            m.list.selected_row().is_some_and(|r| r.revision.is_some()) && !m.list.loading
        })
        .await;
    driver.key(KeyCode::Esc);
    driver.keys("x");
    assert!(
        matches!(driver.model.dialog, Some(Dialog::Revoke(_))),
        "{:?}",
        driver.model.status
    );
    driver.keys(GOOD_VM);
    driver.key(KeyCode::Tab);
    driver.keys("flow test");
    driver.key(KeyCode::Enter);
    driver.settle("the revocation", |m| m.busy.is_none()).await;
    let status = driver.model.status.clone().unwrap();
    assert_eq!(status.tone, Tone::Success, "{status:?}");
    let revoked = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    assert_eq!(revoked.revoke_reason.as_deref(), Some("flow test"));
    verify(&revoked, &[alice]).unwrap();
}
