//! `syncdesk report [--period daily|weekly] [--out FILE.md] [--json]`.

use std::path::PathBuf;

use clap::ValueEnum;

use super::{CliResult, Context, Failure, output};

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Period {
    Daily,
    Weekly,
}

pub fn run(context: &Context, period: Period, out: Option<PathBuf>, json: bool) -> CliResult {
    let (name, ms) = match period {
        Period::Daily => ("daily", 86_400_000),
        Period::Weekly => ("weekly", 7 * 86_400_000),
    };
    let report = context.app()?.report(name, ms)?;
    if json {
        return output::json(&report);
    }
    let text = report.markdown();
    match out {
        Some(path) => {
            std::fs::write(&path, text)
                .map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
            output::outln!("wrote {}", path.display())?;
        }
        None => output::out!("{text}")?,
    }
    Ok(())
}
