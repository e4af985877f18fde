//! `make screenshots`: the console's main screens on the demo scenario, as PNG files in
//! `screenshots/` with their real colours. The demo's Google (gcpsim, in-process, `demo.toml`) and a
//! SQLite store holding both demo VMs as the token server records them after their first denied
//! request (failed checks from the same review the server runs); the console's own model, update
//! function and effects runner (the operations) produce every screen, drawn into ratatui's
//! TestBackend at 160×48 — each buffer written as SVG cells (`tokendist_tui::screenshot`) and
//! rasterized with resvg in DejaVu Sans Mono (`tokendist_testkit::raster`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokendist_core::verdict::Outcome;
use tokendist_store::{FailedCheck, PendingAttempt};
use tokendist_testkit::demo::{
    GOOD_VM, GOOD_VM_ID, GOOD_VM_NAT_IP, PROJECT, SERVICE_ACCOUNT, TAMPERED_VM, TAMPERED_VM_ID,
    ZONE,
};
use tokendist_testkit::raster::write_png;
use tokendist_tui::console::effects::{EffectFiles, Effects};
use tokendist_tui::console::event::Event;
use tokendist_tui::console::keymap::Keymap;
use tokendist_tui::console::model::{Dialog, Model, PlanState};
use tokendist_tui::console::theme::Theme;
use tokendist_tui::console::update::update;
use tokendist_tui::console::view::draw;
use tokendist_tui::keygen;
use tokendist_tui::operations::{Context, ContextOptions, VmRef, load_detail};
use tokendist_tui::screenshot::to_svg;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

/// The console's model, the real effects runner and the channel its results come back on.
struct Console {
    model: Model,
    effects: Effects,
    results: UnboundedReceiver<Event>,
}

impl Console {
    fn apply(&mut self, event: Event) {
        for command in update(&mut self.model, event) {
            self.effects.run(command);
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.apply(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Feeds background results until `done` holds (at most 60 s).
    async fn settle(&mut self, what: &str, done: impl Fn(&Model) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !done(&self.model) {
            let event = tokio::time::timeout_at(deadline, self.results.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
                .expect("the effects runner stopped");
            self.apply(event);
        }
    }

    /// Draws the current screen and writes it as `screenshots/NAME.png`.
    fn shoot(&self, dir: &Path, name: &str) {
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
        terminal
            .draw(|frame| draw(frame, &self.model, self.model.theme))
            .unwrap();
        let path = dir.join(format!("{name}.png"));
        write_png(&to_svg(terminal.backend().buffer()), &path);
        println!("wrote {}", path.display());
    }
}

/// What the token server records when `name` asks without an approval: `approval.state` plus the
/// checks of its review that failed.
async fn pending_attempt(ctx: &Context, id: &str, name: &str) -> PendingAttempt {
    let vm = VmRef {
        instance: name.to_owned(),
        project: Some(PROJECT.to_owned()),
        zone: Some(ZONE.to_owned()),
    };
    let detail = load_detail(ctx, &vm).await.unwrap();
    let mut failed_checks = vec![FailedCheck {
        name: "approval.state".into(),
        reason: "no approval for this instance; waiting for review".into(),
    }];
    let mut evaluated = 1;
    for check in &detail.checks {
        match &check.outcome {
            Outcome::Skipped(_) => {}
            Outcome::Pass => evaluated += 1,
            Outcome::Fail(reason) => {
                evaluated += 1;
                if check.name != "approval.state" {
                    failed_checks.push(FailedCheck {
                        name: check.name.clone(),
                        reason: reason.clone(),
                    });
                }
            }
        }
    }
    PendingAttempt {
        instance_id: id.to_owned(),
        project: PROJECT.to_owned(),
        zone: ZONE.to_owned(),
        instance_name: name.to_owned(),
        service_account: SERVICE_ACCOUNT.to_owned(),
        seen_at: Utc::now(),
        peer_address: Some(GOOD_VM_NAT_IP.to_owned()),
        failed_checks,
        last_quote: None,
        checks_evaluated: Some(evaluated),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let out = root.join("screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let work = tempfile::tempdir().unwrap();
    let path = |name: &str| work.path().join(name);
    keygen::approval_keys(&path("alice"), false).unwrap();
    keygen::server_keys(&path("server"), false).unwrap();
    std::fs::write(
        path("secrets.json"),
        r#"[{"name": "db-password", "type": "RAW", "data": "aHVudGVyMg=="},
            {"name": "api-token", "type": "RAW", "data": "c2VjcmV0LXRva2Vu"}]"#,
    )
    .unwrap();

    let sim = tokendist_testkit::gcpsim::start_demo().await;
    let ctx = Context::open(&ContextOptions {
        store_url: format!("sqlite://{}", path("tokendist.db").display()),
        create: true,
        compute_endpoint: Some(sim.api_url()),
        logging_endpoint: Some(sim.api_url()),
        gcp_anonymous: true,
        settings_path: Some(root.join("sim/scenarios/demo-settings.toml")),
        receipt_key_path: None,
        trust_key_files: vec![path("alice.pub")],
    })
    .await
    .unwrap();
    for (id, name) in [(GOOD_VM_ID, GOOD_VM), (TAMPERED_VM_ID, TAMPERED_VM)] {
        let attempt = pending_attempt(&ctx, id, name).await;
        ctx.store.upsert_pending(&attempt).await.unwrap();
    }

    let (sender, results) = unbounded_channel();
    let files = EffectFiles {
        approver_key: Some(path("alice.key")),
        server_key: Some(path("server/secrets.pub")),
        secrets_dir: work.path().to_owned(),
    };
    let mut console = Console {
        model: Model::new(Keymap::default(), false, Utc::now()),
        effects: Effects::new(ctx, files, sender),
        results,
    };
    console.model.theme = Theme::new(true);
    console.apply(Event::Resize(WIDTH, HEIGHT));
    console.apply(Event::Tick(Utc::now()));
    // The tampered VM needs attention most: it is selected first.
    console
        .settle("the tampered VM's detail", |m| {
            m.selected_detail().is_some()
        })
        .await;
    console.shoot(&out, "1-list-and-overview");
    console.keys("2");
    console.shoot(&out, "2-cloud-config-diff");
    console.keys("3");
    console.shoot(&out, "3-audit-log");
    console.keys("4");
    console.shoot(&out, "4-tpm");

    console.keys("/");
    console.keys(GOOD_VM);
    console.key(KeyCode::Enter);
    console
        .settle("the good VM's detail", |m| {
            m.selected_detail()
                .is_some_and(|d| d.review.target.name == GOOD_VM)
        })
        .await;
    console.keys("1");
    console.shoot(&out, "5-good-vm-overview");
    console.keys("a");
    console
        .settle(
            "the secrets files",
            |m| matches!(&m.dialog, Some(Dialog::Approve(d)) if !d.secrets_choices.is_empty()),
        )
        .await;
    // The secrets file, then seal to the token server: this VM never attested (no swtpm here).
    console.key(KeyCode::Right);
    console.key(KeyCode::Tab);
    console.keys(" ");
    console.key(KeyCode::Tab);
    console
        .settle("the plan", |m| {
            matches!(&m.dialog, Some(Dialog::Approve(d)) if matches!(d.plan, PlanState::Ready(_)))
        })
        .await;
    console.shoot(&out, "6-approve-dialog");
    console.key(KeyCode::Esc);
    console.keys("?");
    console.shoot(&out, "7-help");
}
