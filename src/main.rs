//! The `coldsim` command line: parse arguments, call the library, map errors
//! to exit codes (2 for bad input, 1 for anything else).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use coldsim::scenario::{self, DEFAULT_SCENARIO};
use coldsim::sweep::merge::{self, MergeOptions};
use coldsim::sweep::{self, RunOptions, Shard, table};

const EXAMPLES: &str = "\
Examples:
  coldsim                                   run the built-in default scenario
  coldsim run scenarios/keepalive-ttl.toml  run a scenario (a sweep runs every point)
  coldsim run my.toml --seed 7 --out results/my-seed7 --force
  coldsim report results/my-seed7            report.md, report.html and plots in results/my-seed7/report
  coldsim check my.toml                     validate and print it with every default filled in
  coldsim calibrate --quick --out profile.toml   measure real start costs on this machine
  coldsim compare scenarios/compare-small.toml  the same scenario on real processes and simulated
  coldsim plan my.toml --slo \"p99 < 200ms and rejected_fraction < 1%\" --vary hosts.count --max 32
                                            smallest hosts.count that meets the SLO
A sweep in 4 shards (K/N, K from 0), run anywhere, then merged:
  coldsim run sweep.toml --shard 0/4 --out shards/0    (and 1/4, 2/4, 3/4)
  coldsim merge --out results/sweep shards/*";

/// coldsim: a deterministic simulator of serverless cold starts, keep-alive
/// and placement.
#[derive(Parser, Debug)]
#[command(name = "coldsim", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a scenario file (every point and replicate of its sweep) and
    /// write a results folder.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Replace the scenario's base seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Results folder [default: results/<scenario name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace the results folder if it exists and coldsim wrote it.
        #[arg(long)]
        force: bool,
        /// No progress bar and no summary table.
        #[arg(long, short)]
        quiet: bool,
        /// Skip malformed trace rows and count them (summary.csv, manifest)
        /// instead of stopping at the first.
        #[arg(long)]
        skip_bad_rows: bool,
        /// Run only shard K of N of the sweep's runs (K from 0 to N-1): the
        /// runs numbered j with j % N == K, in sweep.csv order. Merge the N
        /// folders with `coldsim merge`.
        #[arg(long, value_name = "K/N", value_parser = Shard::parse, allow_hyphen_values = true)]
        shard: Option<Shard>,
    },
    /// Merge the folders of every shard of a sweep (`run --shard K/N`) into
    /// the results folder one run of the whole sweep writes.
    Merge {
        /// Results folder [default: results/<scenario name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace the results folder if it exists and coldsim wrote it.
        #[arg(long)]
        force: bool,
        /// Print nothing on stdout.
        #[arg(long, short)]
        quiet: bool,
        /// The shard folders, one per shard, in any order.
        #[arg(required = true, value_name = "SHARD_DIR")]
        shards: Vec<PathBuf>,
    },
    /// Capacity planning: find the smallest value of an integer key that
    /// meets a service-level objective, by bisection over replicates.
    Plan {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// The objective: clauses `METRIC < VALUE`, `<=` or `=` joined with
        /// `and`; METRIC is a summary.csv column, p50/p90/p99/p999 (latency)
        /// or rejected_fraction/failed_fraction. Example: "p99 < 200ms and
        /// cold_fraction < 1%".
        #[arg(long, value_name = "SLO", allow_hyphen_values = true)]
        slo: String,
        /// The integer key path to vary, such as hosts.count,
        /// hosts.memory_mb, functions[NAME].min_instances or
        /// limits.max_concurrency.
        #[arg(long, value_name = "KEY")]
        vary: String,
        /// Smallest value to consider [default: 1; 0 for min_instances].
        #[arg(long, allow_hyphen_values = true)]
        min: Option<i64>,
        /// Largest value to consider [default: 4 x the scenario's value, or 64].
        #[arg(long, allow_hyphen_values = true)]
        max: Option<i64>,
        /// Replicates per evaluated value [default: the scenario's [sweep]
        /// replicates, else 5].
        #[arg(long)]
        replicates: Option<u32>,
        /// Replace the scenario's base seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Results folder [default: results/<scenario name>-plan].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace the results folder if it exists and coldsim wrote it.
        #[arg(long)]
        force: bool,
        /// Print nothing on stdout.
        #[arg(long, short)]
        quiet: bool,
        /// Skip malformed trace rows (counted) instead of stopping.
        #[arg(long)]
        skip_bad_rows: bool,
    },
    /// Write report.md, a self-contained report.html and plots (SVG, PNG)
    /// from a results folder (one run or a sweep).
    Report {
        /// The results folder (written by `coldsim run` or `coldsim merge`).
        results: PathBuf,
        /// Report folder [default: RESULTS/report].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace the report folder if it exists and is a coldsim report.
        #[arg(long)]
        force: bool,
        /// Print nothing on stdout.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Validate a scenario file and print it with every default filled in.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Measure real start costs (cold, fork, warm) and the dispatch round
    /// trip on this machine, and write a calibration profile (TOML).
    Calibrate {
        /// Fewer sizes (up to 64 MiB) and samples: about 2 s instead of 10 s.
        #[arg(long)]
        quick: bool,
        /// The profile file to write.
        #[arg(long)]
        out: PathBuf,
        /// Replace the profile file if it exists (only a calibration
        /// profile is replaced).
        #[arg(long)]
        force: bool,
    },
    /// Run a small scenario on the real executor (worker processes, wall
    /// time) and in the simulator with a calibration profile, from the same
    /// arrivals, and print and write them side by side.
    Compare {
        /// The scenario file (TOML); at most 10 minutes long, no remote
        /// snapshot store, one invocation per instance.
        scenario: PathBuf,
        /// The calibration profile for the simulator [default: the
        /// scenario's `calibration`, else one measured first with
        /// `calibrate --quick`].
        #[arg(long)]
        profile: Option<PathBuf>,
        /// Results folder [default: results/<scenario name>-compare].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace the results folder if it exists and coldsim wrote it.
        #[arg(long)]
        force: bool,
        /// Real executions: CPU-bound work over the state, or sleeps
        /// (I/O-bound).
        #[arg(long, value_enum, default_value_t = WorkArg::Cpu)]
        work: WorkArg,
    },
    /// A worker process of the real executor (started by the executor only).
    #[cfg(feature = "executor")]
    #[command(hide = true)]
    Worker(coldsim::executor::worker::WorkerArgs),
    /// Runs an executor with a few workers and waits to be killed (tests).
    #[cfg(feature = "executor")]
    #[command(hide = true)]
    ExecutorSelftest(coldsim::executor::selftest::SelftestArgs),
}

/// `--work`: how a real execution spends its time.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum WorkArg {
    Cpu,
    Io,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return clap_error(e),
    };
    match real_main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coldsim: error: {e:#}");
            let code = e
                .downcast_ref::<coldsim::Error>()
                .map_or(1, coldsim::Error::exit_code);
            ExitCode::from(code as u8)
        }
    }
}

/// Help and version go to stdout as clap prints them; a usage error becomes
/// one line on stderr and exit code 2.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(e.exit_code() as u8);
    }
    let rendered = e.render().to_string();
    // The message is the text before clap's "Usage:" block, on one line.
    let msg: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    let msg = msg.join(" ").replace(" tip: ", "; tip: ");
    let msg = msg.strip_prefix("error: ").unwrap_or(&msg);
    eprintln!("coldsim: error: {msg}; see 'coldsim --help'");
    ExitCode::from(2)
}

fn real_main(cli: Cli) -> anyhow::Result<()> {
    let command: Vec<String> = std::env::args().collect();
    // Commands that write outputs remove what they are staging on Ctrl-C,
    // SIGTERM or SIGHUP and exit 130, 143 or 129 (workers keep the default
    // actions: the executor stops them).
    #[cfg(feature = "executor")]
    let quiet_signals = matches!(
        cli.cmd,
        Some(Cmd::Worker(_) | Cmd::ExecutorSelftest(_) | Cmd::Check { .. })
    );
    #[cfg(not(feature = "executor"))]
    let quiet_signals = matches!(cli.cmd, Some(Cmd::Check { .. }));
    if !quiet_signals {
        coldsim::report::staging::remove_staged_on_signals()?;
    }
    match cli.cmd {
        None => {
            let sf = scenario::parse_str(DEFAULT_SCENARIO, "<built-in default scenario>")?;
            let opts = RunOptions {
                out: PathBuf::from("results").join(&sf.base.name),
                force: true,
                quiet: false,
                command,
                skip_bad_rows: false,
                shard: None,
            };
            let outcome = sweep::execute(&sf, &opts)?;
            print!("{}", table::render(&sf, &outcome));
        }
        Some(Cmd::Run {
            scenario,
            seed,
            out,
            force,
            quiet,
            skip_bad_rows,
            shard,
        }) => {
            let mut sf = scenario::load(&scenario)?;
            if let Some(s) = seed {
                sf.set_seed(s);
            }
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&sf.base.name));
            let opts = RunOptions {
                out,
                force,
                quiet,
                command,
                skip_bad_rows,
                shard,
            };
            let outcome = sweep::execute(&sf, &opts)?;
            if !quiet {
                print!("{}", table::render(&sf, &outcome));
            }
        }
        Some(Cmd::Merge {
            out,
            force,
            quiet,
            shards,
        }) => {
            let out = match out {
                Some(o) => o,
                None => PathBuf::from("results").join(merge::scenario_name(&shards)?),
            };
            let opts = MergeOptions {
                out,
                force,
                command,
            };
            let o = merge::merge(&shards, &opts)?;
            if !quiet {
                let m = &o.manifest;
                println!(
                    "coldsim {} | scenario {} ({}) | seed {} | {} run(s) merged from {} shard(s)",
                    m.coldsim_version,
                    m.scenario_name,
                    m.scenario_file,
                    m.seed,
                    m.runs,
                    m.shards.len()
                );
                let dir = o.dir.display().to_string();
                let slash = if dir.ends_with('/') { "" } else { "/" };
                println!("results written to {dir}{slash}");
            }
        }
        Some(Cmd::Plan {
            scenario,
            slo,
            vary,
            min,
            max,
            replicates,
            seed,
            out,
            force,
            quiet,
            skip_bad_rows,
        }) => {
            let mut sf = scenario::load(&scenario)?;
            if let Some(s) = seed {
                sf.set_seed(s);
            }
            let out = out
                .unwrap_or_else(|| PathBuf::from("results").join(format!("{}-plan", sf.base.name)));
            let opts = coldsim::plan::PlanOptions {
                slo,
                key: vary,
                min,
                max,
                replicates,
                out,
                force,
                command,
                skip_bad_rows,
            };
            let o = coldsim::plan::plan(&sf, &opts)?;
            if !quiet {
                print!("{}", coldsim::plan::render(&o));
            }
        }
        Some(Cmd::Report {
            results,
            out,
            force,
            quiet,
        }) => {
            let o = coldsim::report::render::report(&results, out.as_deref(), force, &command)?;
            if !quiet {
                println!(
                    "report written to {}/report.html (and report.md, {} plot(s) in plots/)",
                    o.dir.display(),
                    o.plots.len()
                );
            }
        }
        Some(Cmd::Check { scenario }) => {
            let sf = scenario::load(&scenario)?;
            // A profile named by `calibration` must exist and be valid.
            coldsim::calibration::LoadedProfile::for_key(
                sf.base.calibration.as_deref(),
                &sf.base_dir,
            )?;
            println!(
                "# {}: valid; {} run(s) ({} point(s) x {} replicate(s))",
                sf.origin,
                sf.points.len() * sf.replicates as usize,
                sf.points.len(),
                sf.replicates
            );
            print!("{}", scenario::to_toml(&sf.base));
        }
        Some(Cmd::Calibrate { quick, out, force }) => calibrate(quick, out, force)?,
        Some(Cmd::Compare {
            scenario,
            profile,
            out,
            force,
            work,
        }) => compare(scenario, profile, out, force, work, command)?,
        #[cfg(feature = "executor")]
        Some(Cmd::Worker(args)) => coldsim::executor::worker::run(&args)?,
        #[cfg(feature = "executor")]
        Some(Cmd::ExecutorSelftest(args)) => coldsim::executor::selftest::run(&args)?,
    }
    Ok(())
}

/// `coldsim calibrate` (needs the `executor` feature).
#[cfg(feature = "executor")]
fn calibrate(quick: bool, out: PathBuf, force: bool) -> anyhow::Result<()> {
    use coldsim::executor::{ExecutorConfig, calibrate};
    let opts = calibrate::CalibrateOptions {
        quick,
        out: out.clone(),
        force,
        worker_bin: ExecutorConfig::current_exe()?.worker_bin,
    };
    coldsim::compare::calibrate(&opts, &mut |line| eprintln!("{line}"))?;
    println!("profile written to {}", out.display());
    Ok(())
}

/// `coldsim compare` (needs the `executor` feature).
#[cfg(feature = "executor")]
fn compare(
    scenario: PathBuf,
    profile: Option<PathBuf>,
    out: Option<PathBuf>,
    force: bool,
    work: WorkArg,
    command: Vec<String>,
) -> anyhow::Result<()> {
    use coldsim::compare;
    use coldsim::executor::driver::Work;
    let opts = compare::CompareOptions {
        scenario,
        profile,
        out,
        force,
        work: match work {
            WorkArg::Cpu => Work::Cpu,
            WorkArg::Io => Work::Io,
        },
        worker_bin: coldsim::executor::ExecutorConfig::current_exe()?.worker_bin,
        command,
    };
    let o = compare::run(&opts, &mut |line| eprintln!("{line}"))?;
    let st = &o.real.stats;
    println!(
        "coldsim {} | compare {} | profile {} ({:?})",
        env!("CARGO_PKG_VERSION"),
        opts.scenario.display(),
        o.profile_path,
        o.profile_source
    );
    println!(
        "real run: {:.1} s wall, {} workers ({} cold, {} templates, {} forks), arrivals late by {:.2} ms mean, {:.2} ms max",
        o.real.wall.as_secs_f64(),
        st.cold_spawns + st.templates + st.forks,
        st.cold_spawns,
        st.templates,
        st.forks,
        st.lateness_mean_ns as f64 / 1e6,
        st.lateness_max_ns as f64 / 1e6
    );
    if st.failed_invocations + st.crashed_instances > 0 {
        println!(
            "real failures: {} invocations failed in a worker, {} workers died on their own (each a crash for the platform core)",
            st.failed_invocations, st.crashed_instances
        );
    }
    print!("{}", compare::render(&o.rows));
    println!("results written to {}/", o.dir.display());
    Ok(())
}

/// What `calibrate` and `compare` say when built without the executor.
#[cfg(not(feature = "executor"))]
fn no_executor(what: &str) -> anyhow::Result<()> {
    Err(coldsim::Error::Usage(format!(
        "coldsim {what} needs the real executor, and this coldsim was built without it (cargo feature `executor`, on by default); rebuild with `cargo build --release`"
    ))
    .into())
}

#[cfg(not(feature = "executor"))]
fn calibrate(_quick: bool, _out: PathBuf, _force: bool) -> anyhow::Result<()> {
    no_executor("calibrate")
}

#[cfg(not(feature = "executor"))]
fn compare(
    _scenario: PathBuf,
    _profile: Option<PathBuf>,
    _out: Option<PathBuf>,
    _force: bool,
    _work: WorkArg,
    _command: Vec<String>,
) -> anyhow::Result<()> {
    no_executor("compare")
}
