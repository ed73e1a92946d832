//! The terminal side: raw mode and the alternate screen (restored on exit and on panic), then a loop that
//! drains every pending event, ticks on schedule, and draws once per burst of changes.

use std::io::{self, Stdout};
use std::time::{Duration, Instant};

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use super::console::Console;

type Term = Terminal<CrosstermBackend<Stdout>>;

fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), DisableMouseCapture, LeaveAlternateScreen);
}

fn setup() -> io::Result<Term> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen)?;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        hook(info);
    }));
    Terminal::new(CrosstermBackend::new(io::stdout()))
}

/// Runs the console until the operator quits.
pub fn run(mut console: Console) -> io::Result<()> {
    console.spawn_metrics_worker();
    let mut terminal = setup()?;
    let result = run_loop(&mut terminal, &mut console);
    restore();
    terminal.show_cursor()?;
    result
}

fn run_loop(terminal: &mut Term, console: &mut Console) -> io::Result<()> {
    let tick = Duration::from_millis(console.tick_ms());
    let size = terminal.size()?;
    console.resize(size.width, size.height);
    let mut mouse = false;
    let mut next_tick = Instant::now() + tick;
    loop {
        if console.ui.mouse != mouse {
            mouse = console.ui.mouse;
            if mouse {
                execute!(io::stdout(), EnableMouseCapture)?;
            } else {
                execute!(io::stdout(), DisableMouseCapture)?;
            }
        }
        if console.take_dirty() {
            terminal.draw(|frame| console.render(frame))?;
        }
        let wait = next_tick.saturating_duration_since(Instant::now());
        if event::poll(wait)? {
            // Drain the burst, then draw once.
            loop {
                let ev = event::read()?;
                console.handle_event(&ev);
                if console.should_quit() || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        if console.should_quit() {
            return Ok(());
        }
        if Instant::now() >= next_tick {
            console.tick();
            next_tick = Instant::now() + tick;
        }
    }
}
