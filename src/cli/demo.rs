//! `syncdesk demo`: parses the options and hands over to [`crate::demo`] (the simulated shop under the
//! console, `--headless` with a running commentary, or `--tour`, the guided tour of the order workflow).

use std::path::PathBuf;
use std::time::Duration;

use super::{CliResult, Context, Failure};
use crate::demo::{self, DemoError};

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// No console: run the shop and print what happens (the database and config stay in --dir).
    #[arg(long, conflicts_with = "tour")]
    headless: bool,
    /// With --headless: stop after this many seconds (default: at Ctrl-C).
    #[arg(long, value_name = "SECS", requires = "headless")]
    duration: Option<u64>,
    /// Keep the demo's database, config and log here (default: a new temporary folder).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The guided tour of the order workflow instead (a few scripted orders and a mail sink).
    #[arg(long)]
    tour: bool,
}

pub fn run(context: &Context, args: DemoArgs) -> CliResult {
    let result = if args.tour {
        demo::tour::run(args.dir)
    } else {
        demo::run(demo::Options {
            dir: args.dir,
            headless: args.headless,
            duration: args.duration.map(Duration::from_secs),
            user: context.user.clone().unwrap_or_default(),
        })
    };
    result.map_err(|e| match e {
        DemoError::Rejected(m) => Failure::rejected(m),
        DemoError::Failed(m) => Failure::failed(m),
    })
}
