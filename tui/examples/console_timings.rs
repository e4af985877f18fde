//! A measurement, not a check: how fast the console draws at fleet scale. Run it in release:
//!
//!   cargo run --release -p tokendist-tui --features fixtures --example console_timings
//!
//! 1. In-process (the pure update function and the view into ratatui's TestBackend at 160×48): the
//!    first frame with 10,000 VMs, the slowest of 200 list moves, switching to and scrolling a
//!    5,000-line cloud-config diff and 10,000 audit entries.
//! 2. The real `tokendist console` binary (beside this example's target directory) in tmux on a
//!    SQLite store of 10,000 pending VMs: the first frame with the list (from its log), each key's
//!    update and update + draw time (its debug log), and the process's RSS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokendist_core::auditlog::Classification;
use tokendist_store::{FailedCheck, PendingAttempt};
use tokendist_testkit::tmux::Session;
use tokendist_tui::console::event::Event;
use tokendist_tui::console::fixtures::{at, detail, many};
use tokendist_tui::console::keymap::Keymap;
use tokendist_tui::console::model::Model;
use tokendist_tui::console::theme::Theme;
use tokendist_tui::console::update::update;
use tokendist_tui::console::view::draw;
use tokendist_tui::operations::model::{DiffLine, DiffTag};
use tokendist_tui::operations::{Context, ContextOptions};

/// How many VMs (10,000 unless `CONSOLE_TIMINGS_VMS` says otherwise, e.g. 10 for a baseline).
fn vms() -> usize {
    std::env::var("CONSOLE_TIMINGS_VMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

fn press(model: &mut Model, c: char) {
    update(
        model,
        Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

fn in_process() {
    let (width, height) = (160, 48);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let theme = Theme::new(true);
    let started = Instant::now();
    let mut model = Model::new(Keymap::default(), false, at(4));
    model.theme = theme;
    update(&mut model, Event::Resize(width, height));
    update(&mut model, Event::ListLoaded(Ok(many(vms()))));
    terminal.draw(|f| draw(f, &model, theme)).unwrap();
    println!(
        "in-process, 160x48: first frame with {} VMs: {:?}",
        vms(),
        started.elapsed()
    );

    let mut timed = |model: &mut Model, keys: &str| {
        let mut slowest = Duration::ZERO;
        for c in keys.chars() {
            let started = Instant::now();
            press(model, c);
            terminal.draw(|f| draw(f, model, theme)).unwrap();
            slowest = slowest.max(started.elapsed());
        }
        slowest
    };
    println!(
        "  slowest of 200 list moves (j): {:?}",
        timed(&mut model, &"j".repeat(200))
    );
    let selected = model.list.selected.clone().unwrap();
    let mut detail = detail("vm", &selected, true);
    let diff = detail.cloud_config.against_template.as_mut().unwrap();
    diff.lines = (1..=5_000)
        .map(|n| DiffLine {
            tag: if n % 7 == 0 {
                DiffTag::Added
            } else {
                DiffTag::Same
            },
            old_line: Some(n),
            new_line: Some(n),
            text: format!("line {n}: - docker run gcr.io/bob/app@sha256:0f3c"),
        })
        .collect();
    if let Ok(timeline) = detail.review.timeline.as_mut() {
        let first = timeline[0].clone();
        *timeline = (0..10_000)
            .map(|i| {
                let mut event = first.clone();
                if i % 50 == 0 {
                    event.classification = Classification::Denied {
                        reason: "denied".into(),
                    };
                }
                event
            })
            .collect();
    }
    update(
        &mut model,
        Event::DetailLoaded {
            instance_id: selected,
            result: Ok(Box::new(detail)),
        },
    );
    println!(
        "  switch to a 5,000-line diff: {:?}",
        timed(&mut model, "2")
    );
    println!("  slowest scroll in it: {:?}", timed(&mut model, "lGkkgjj"));
    println!(
        "  switch to 10,000 audit entries: {:?}",
        timed(&mut model, "3")
    );
    println!("  slowest scroll in it: {:?}", timed(&mut model, "Gkkgjj"));
}

async fn real_binary() {
    let work = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}", work.path().join("tokendist.db").display());
    let ctx = Context::open(&ContextOptions {
        store_url: store_url.clone(),
        create: true,
        compute_endpoint: None,
        logging_endpoint: None,
        gcp_anonymous: true,
        settings_path: None,
        receipt_key_path: None,
        trust_key_files: Vec::new(),
    })
    .await
    .unwrap();
    for i in 0..vms() {
        let attempt = PendingAttempt {
            instance_id: format!("{}", 7_000_000_000u64 + i as u64),
            project: "bob-project".into(),
            zone: "us-central1-a".into(),
            instance_name: format!("vm-{i:05}"),
            service_account: "tokenclient@bob-project.iam.gserviceaccount.com".into(),
            seen_at: Utc::now(),
            peer_address: None,
            failed_checks: vec![FailedCheck {
                name: "approval.state".into(),
                reason: "no approval".into(),
            }],
            last_quote: None,
            checks_evaluated: Some(1),
        };
        ctx.store.upsert_pending(&attempt).await.unwrap();
    }
    // The example's binary is in target/<profile>/examples; the console is in target/<profile>.
    let binary: PathBuf = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|examples| examples.parent())
        .unwrap()
        .join("tokendist");
    assert!(
        binary.exists(),
        "build it first: cargo build --release --bin tokendist"
    );
    let log = work.path().join("console.log");
    let command = [
        binary.display().to_string(),
        "console".into(),
        "--log-file".into(),
        log.display().to_string(),
    ];
    // Google is a closed port: the first detail fails fast into the status line.
    let tmux = Session::builder(&command)
        .size(160, 48)
        .env("TOKENDIST_STORE", store_url)
        .env("TOKENDIST_GCP_ANONYMOUS", "true")
        .env("TOKENDIST_COMPUTE_ENDPOINT", "http://127.0.0.1:9")
        .env("TOKENDIST_LOGGING_ENDPOINT", "http://127.0.0.1:9")
        .env("RUST_LOG", "tokendist_tui=debug")
        .env("TERM", "xterm-256color")
        .start();
    tmux.wait_for(&format!("VMs ({})", vms()), Duration::from_secs(60))
        .unwrap();
    let started = Instant::now();
    for _ in 0..50 {
        tmux.send_keys(&["PageDown"]);
    }
    tmux.send_keys(&["End"]);
    // Newest first: the last row is the first VM recorded.
    tmux.wait_for(
        "▸bob-project/us-central1-a/vm-00000",
        Duration::from_secs(60),
    )
    .unwrap();
    println!("real binary, 160x48, {} pending VMs in SQLite:", vms());
    println!(
        "  50 × PageDown and End shown after {:?}",
        started.elapsed()
    );
    let memory = |when: &str| {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", tmux.pid())).unwrap_or_default();
        for line in status
            .lines()
            .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        {
            println!("  {when}: {line}");
        }
    };
    memory("after paging");
    // The list is re-read from the store every few seconds: memory must stay flat.
    std::thread::sleep(Duration::from_secs(30));
    memory("after 30 s of refreshes");
    tmux.send_text("q");
    std::thread::sleep(Duration::from_millis(500));
    let log = std::fs::read_to_string(&log).unwrap();
    for line in log.lines().filter(|l| l.contains("first frame")) {
        println!("  {}", line.trim());
    }
    for field in ["update_us=", "elapsed_us="] {
        let mut keys: Vec<u128> = log
            .lines()
            .filter_map(|l| l.split(field).nth(1))
            .filter_map(|v| v.split_whitespace().next()?.parse().ok())
            .collect();
        keys.sort_unstable();
        if let (Some(median), Some(max)) = (keys.get(keys.len() / 2), keys.last()) {
            println!(
                "  {field} {} keys: median {median} µs, slowest {max} µs",
                keys.len()
            );
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    in_process();
    real_binary().await;
}
