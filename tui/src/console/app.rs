//! The console's runtime: opens the operations' context, enters the full-screen terminal and runs
//! the loop — terminal events (crossterm's `EventStream`), background results (a channel) and the
//! clock go through [`update`], the commands it returns go to the [`Effects`] runner, and the
//! [`view`] redraws when something changed. Nothing in the loop waits for the store or Google.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{Event as TerminalEvent, EventStream};
use futures::StreamExt as _;
use tokio::sync::mpsc;

use super::effects::{EffectFiles, Effects};
use super::event::Event;
use super::keymap::Keymap;
use super::model::Model;
use super::terminal::{TerminalGuard, stop_signal};
use super::theme::Theme;
use super::update::update;
use super::view;
use crate::error::ConsoleError;
use crate::files::read_text;
use crate::operations::{Context, ContextOptions};

/// How often the clock ticks (spinner; the list refresh period is counted in ticks' time).
const TICK: Duration = Duration::from_millis(250);

/// The console's own options (`tokendist console ...`).
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    pub read_only: bool,
    pub approver_key: Option<PathBuf>,
    pub server_key: Option<PathBuf>,
    pub secrets_file: Option<PathBuf>,
    pub keymap_file: Option<PathBuf>,
    /// Capture the mouse (clicks select, the wheel scrolls); off leaves text selection to the terminal.
    pub mouse: bool,
}

/// Loads the keymap: the defaults, with the file's bindings when one is given.
pub fn load_keymap(path: Option<&std::path::Path>) -> Result<Keymap, ConsoleError> {
    let Some(path) = path else {
        return Ok(Keymap::default());
    };
    let text = read_text(path, "read keymap file")?;
    Keymap::from_toml(&text)
        .map_err(|e| ConsoleError::Config(format!("keymap file {}: {e}", path.display())))
}

/// Runs the console until Alice quits or the process is asked to stop.
pub async fn run(context: &ContextOptions, options: ConsoleOptions) -> Result<(), ConsoleError> {
    if !std::io::stdout().is_terminal() {
        return Err(ConsoleError::Usage(
            "the console needs a terminal; for scripts use the subcommands (tokendist list, show, ...)"
                .to_owned(),
        ));
    }
    let keymap = load_keymap(options.keymap_file.as_deref())?;
    let ctx = Context::open(context).await?;
    let secrets_dir = std::env::current_dir()
        .map_err(|e| ConsoleError::Failed(format!("cannot read the current directory: {e}")))?;
    let (sender, mut results) = mpsc::unbounded_channel();
    let mut effects = Effects::new(
        ctx,
        EffectFiles {
            approver_key: options.approver_key.clone(),
            server_key: options.server_key.clone(),
            secrets_dir,
        },
        sender,
    );
    let mut model = Model::new(keymap, options.read_only, Utc::now());
    model.source = store_label(&context.store_url);
    model.defaults.secrets_file = options
        .secrets_file
        .as_ref()
        .map(|p| p.display().to_string());
    let theme = Theme::from_env();
    model.theme = theme;

    let mut guard = TerminalGuard::enter(options.mouse)
        .map_err(|e| ConsoleError::Failed(format!("cannot open the terminal: {e}")))?;
    let draw_failed = |e: std::io::Error| ConsoleError::Failed(format!("cannot draw: {e}"));
    let size = guard.terminal.size().map_err(draw_failed)?;
    let mut pending = vec![
        Event::Resize(size.width, size.height),
        Event::Tick(Utc::now()),
    ];
    let mut terminal_events = EventStream::new();
    let mut ticker = tokio::time::interval(TICK);
    let stop = stop_signal();
    tokio::pin!(stop);
    tracing::info!(read_only = options.read_only, "console started");
    // Timings for the log: the first frame that shows the list, and each key (update + draw).
    let started = Instant::now();
    let mut first_list_frame = true;
    loop {
        for event in pending.drain(..) {
            let redraw = !matches!(event, Event::Tick(_)) || animating(&model);
            let key_at = matches!(event, Event::Key(_)).then(Instant::now);
            for command in update(&mut model, event) {
                tracing::debug!(?command, "effect");
                effects.run(command);
            }
            if model.quit {
                tracing::info!("console quit");
                return Ok(());
            }
            let updated_at = Instant::now();
            if redraw {
                guard
                    .terminal
                    .draw(|frame| view::draw(frame, &model, theme))
                    .map_err(draw_failed)?;
            }
            if first_list_frame && model.list.loaded_at.is_some() {
                first_list_frame = false;
                tracing::info!(
                    vms = model.list.rows.len(),
                    elapsed_ms = started.elapsed().as_millis(),
                    "first frame with the list"
                );
            }
            if let Some(at) = key_at {
                tracing::debug!(
                    update_us = (updated_at - at).as_micros(),
                    elapsed_us = at.elapsed().as_micros(),
                    "key rendered"
                );
            }
        }
        let next = tokio::select! {
            input = terminal_events.next() => match input {
                Some(Ok(input)) => from_terminal(input),
                Some(Err(e)) => return Err(ConsoleError::Failed(format!("cannot read the terminal: {e}"))),
                None => return Ok(()),
            },
            Some(result) = results.recv() => Some(result),
            _ = ticker.tick() => Some(Event::Tick(Utc::now())),
            _ = &mut stop => {
                tracing::info!("stopped by a signal");
                return Ok(());
            }
        };
        pending.extend(next);
    }
}

/// Whether something on screen moves by itself (a spinner), so ticks redraw.
fn animating(model: &Model) -> bool {
    model.list.loading
        || model.detail.loading
        || model.busy.is_some()
        || matches!(
            &model.dialog,
            Some(super::model::Dialog::Approve(d)) if d.plan == super::model::PlanState::Loading
        )
}

fn from_terminal(input: TerminalEvent) -> Option<Event> {
    match input {
        TerminalEvent::Key(key) => Some(Event::Key(key)),
        TerminalEvent::Mouse(mouse) => Some(Event::Mouse(mouse)),
        TerminalEvent::Resize(width, height) => Some(Event::Resize(width, height)),
        TerminalEvent::FocusGained | TerminalEvent::FocusLost | TerminalEvent::Paste(_) => None,
    }
}

/// The store URL for the header, without a query string (it may carry credentials).
fn store_label(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}
