//! The terminal the console draws on: raw mode, the alternate screen and mouse capture on start,
//! and always restored — on return (a guard), on panic (a hook run before the default one) and on
//! SIGTERM / SIGINT / SIGHUP (the loop ends and the guard restores).

use std::io::{self, Write as _};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use ratatui::DefaultTerminal;

/// Restores the terminal when dropped.
#[derive(Debug)]
pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Enters the full-screen mode (capturing the mouse when `mouse`); the panic hook restores the
    /// terminal before the panic prints.
    pub fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            leave_mouse();
            hook(info);
        }));
        let terminal = ratatui::try_init()?;
        if mouse {
            execute!(io::stdout(), EnableMouseCapture)?;
        }
        Ok(TerminalGuard { terminal })
    }
}

fn leave_mouse() {
    let mut stdout = io::stdout();
    let _ = execute!(stdout, DisableMouseCapture);
    let _ = stdout.flush();
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        leave_mouse();
        ratatui::restore();
    }
}

/// Resolves when the process is asked to stop (SIGTERM, SIGINT or SIGHUP).
pub async fn stop_signal() -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = hup.recv() => {}
    }
    Ok(())
}
