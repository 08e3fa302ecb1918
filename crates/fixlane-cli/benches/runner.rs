//! The runner's own cost, against `make -j` on the same DAG in the same run.
//!
//! (a) wall time of 200 no-op gates, fan-out and chain shapes; (b) process start to the first
//! gate's command running, on a 1 000-gate config; (c) delay from the last critical gate's
//! command ending to the `ready` event (make: to the dependent recipe starting); (d) wall time
//! of 5 no-op gates (fan-out), where the cost of a run itself shows: git, the config, the store.
//! Run with `cargo bench -p fixlane-cli --bench runner`; medians over several trials.

#![expect(
    clippy::expect_used,
    reason = "a benchmark that cannot set up its sandbox has nothing to measure: it fails loudly"
)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const FIXLANE: &str = env!("CARGO_BIN_EXE_fixlane");
const TRIALS: usize = 7;

fn git(dir: &Path, arguments: &[&str]) {
    let status = Command::new("git")
        .args(arguments)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .expect("git");
    assert!(status.success(), "git {arguments:?}");
}

fn repository(config: &str, makefile: &str) -> tempfile::TempDir {
    // FIXLANE_BENCH_DIR (e.g. /dev/shm) puts the repositories on another filesystem: fixlane
    // writes a log file per gate and its store, make writes nothing, so a slow disk shows.
    let dir = match std::env::var_os("FIXLANE_BENCH_DIR") {
        Some(base) => tempfile::tempdir_in(base).expect("temp dir in FIXLANE_BENCH_DIR"),
        None => tempfile::tempdir().expect("temp dir"),
    };
    std::fs::write(dir.path().join("fixlane.toml"), config).expect("config");
    std::fs::write(dir.path().join("Makefile"), makefile).expect("makefile");
    git(dir.path(), &["init", "--quiet", "--initial-branch=main"]);
    git(
        dir.path(),
        &["-c", "user.email=b@e", "-c", "user.name=b", "add", "--all"],
    );
    git(
        dir.path(),
        &[
            "-c",
            "user.email=b@e",
            "-c",
            "user.name=b",
            "commit",
            "--quiet",
            "-m",
            "bench",
        ],
    );
    dir
}

/// 200 gates: `fan` = one root everything else needs; `chain` = each needs the previous one.
fn dag(count: usize, chain: bool, recipe: &str) -> (String, String) {
    let mut config = String::from("[project]\nname = \"bench\"\n");
    let mut makefile = String::from("all:");
    for index in 0..count {
        write!(makefile, " g{index}").ok();
    }
    makefile.push('\n');
    for index in 0..count {
        let need = match (index, chain) {
            (0, _) => None,
            (_, true) => Some(index - 1),
            (_, false) => Some(0),
        };
        write!(
            config,
            "[gates.g{index}]\nrun = '{recipe}'\ntier = \"required\"\n"
        )
        .ok();
        if let Some(need) = need {
            writeln!(config, "needs = [\"g{need}\"]").ok();
        }
        write!(
            makefile,
            "g{index}:{}\n\t@{recipe}\n.PHONY: g{index}\n",
            need.map(|need| format!(" g{need}")).unwrap_or_default()
        )
        .ok();
    }
    (config, makefile)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn timed(mut command: Command) -> Duration {
    let start = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn");
    let elapsed = start.elapsed();
    assert!(status.success(), "{command:?} failed");
    elapsed
}

fn fixlane(dir: &Path, arguments: &[&str]) -> Command {
    let mut command = Command::new(FIXLANE);
    command.args(arguments).current_dir(dir).env("CI", "true");
    command
}

fn make(dir: &Path, jobs: usize, target: &str) -> Command {
    let mut command = Command::new("make");
    command
        .args(["-s", "-j", &jobs.to_string(), target])
        .current_dir(dir);
    command
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |time| time.as_nanos())
}

fn read_nanos(path: &Path) -> u128 {
    std::fs::read_to_string(path)
        .expect("timestamp file")
        .trim()
        .parse()
        .expect("nanoseconds")
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn wall_time(jobs: usize) {
    for (shape, chain) in [("fan-out", false), ("chain", true)] {
        let (config, makefile) = dag(200, chain, "true");
        let dir = repository(&config, &makefile);
        let jobs_text = jobs.to_string();
        let fixlane_time = median(
            (0..TRIALS)
                .map(|_| timed(fixlane(dir.path(), &["run", "--jobs", &jobs_text])))
                .collect(),
        );
        let make_time = median(
            (0..TRIALS)
                .map(|_| timed(make(dir.path(), jobs, "all")))
                .collect(),
        );
        println!(
            "(a) 200 no-op gates, {shape:<7}, -j{jobs}: fixlane {:8.1} ms, make {:8.1} ms, ratio {:.2}x",
            milliseconds(fixlane_time),
            milliseconds(make_time),
            fixlane_time.as_secs_f64() / make_time.as_secs_f64()
        );
    }
}

fn small_dag(jobs: usize) {
    let (config, makefile) = dag(5, false, "true");
    let dir = repository(&config, &makefile);
    let jobs_text = jobs.to_string();
    let fixlane_time = median(
        (0..TRIALS)
            .map(|_| timed(fixlane(dir.path(), &["run", "--jobs", &jobs_text])))
            .collect(),
    );
    let make_time = median(
        (0..TRIALS)
            .map(|_| timed(make(dir.path(), jobs, "all")))
            .collect(),
    );
    println!(
        "(d) 5 no-op gates, fan-out,   -j{jobs}: fixlane {:8.1} ms, make {:8.1} ms, difference {:+.1} ms",
        milliseconds(fixlane_time),
        milliseconds(make_time),
        milliseconds(fixlane_time) - milliseconds(make_time)
    );
}

fn time_to_first_gate(jobs: usize) {
    let (config, makefile) = dag(1000, false, "[ -f first ] || date +%s%N > first");
    let dir = repository(&config, &makefile);
    let first = dir.path().join("first");
    let measure = |command: &mut dyn FnMut() -> Command| {
        let samples: Vec<Duration> = (0..TRIALS)
            .map(|_| {
                let _ = std::fs::remove_file(&first);
                let start = now_nanos();
                let status = command()
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .expect("spawn");
                assert!(status.success());
                let nanos = read_nanos(&first).saturating_sub(start);
                Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
            })
            .collect();
        median(samples)
    };
    let jobs_text = jobs.to_string();
    let fixlane_time = measure(&mut || fixlane(dir.path(), &["run", "--jobs", &jobs_text]));
    let make_time = measure(&mut || make(dir.path(), jobs, "all"));
    println!(
        "(b) start to first gate, 1 000 gates:  fixlane {:8.1} ms, make {:8.1} ms, ratio {:.2}x",
        milliseconds(fixlane_time),
        milliseconds(make_time),
        fixlane_time.as_secs_f64() / make_time.as_secs_f64()
    );
}

fn ready_delay() {
    let config = "[project]\nname = \"bench\"\n\
        [gates.build]\nrun = 'sleep 0.2; date +%s%N > critical-done'\ntier = \"critical\"\n\
        [gates.perf]\nrun = 'sleep 1'\ntier = \"optional\"\n";
    let makefile = "all: ready perf\nbuild:\n\t@sleep 0.2; date +%s%N > critical-done\n\
        ready: build\n\t@date +%s%N > ready-at\nperf:\n\t@sleep 1\n.PHONY: all build ready perf\n";
    let dir = repository(config, makefile);
    let done = dir.path().join("critical-done");
    let fixlane_samples: Vec<Duration> = (0..TRIALS)
        .map(|_| {
            let output = fixlane(dir.path(), &["run", "--json"])
                .output()
                .expect("spawn");
            assert!(output.status.success());
            let ready = String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .find(|event| event["event"] == "verdict_changed" && event["verdict"] == "ready")
                .and_then(|event| event["at"].as_str().map(str::to_owned))
                .expect("a ready event");
            let ready: jiff::Timestamp = ready.parse().expect("timestamp");
            let ready = u128::try_from(ready.as_nanosecond()).unwrap_or(0);
            let nanos = ready.saturating_sub(read_nanos(&done));
            Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
        })
        .collect();
    let make_samples: Vec<Duration> = (0..TRIALS)
        .map(|_| {
            let status = make(dir.path(), 2, "all").status().expect("make");
            assert!(status.success());
            let nanos = read_nanos(&dir.path().join("ready-at")).saturating_sub(read_nanos(&done));
            Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
        })
        .collect();
    let fixlane_time = median(fixlane_samples);
    let make_time = median(make_samples);
    println!(
        "(c) last critical gate to ready:       fixlane {:8.1} ms, make {:8.1} ms (next recipe), ratio {:.2}x",
        milliseconds(fixlane_time),
        milliseconds(make_time),
        fixlane_time.as_secs_f64() / make_time.as_secs_f64()
    );
}

fn main() {
    let jobs = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let place = std::env::var("FIXLANE_BENCH_DIR")
        .unwrap_or_else(|_| std::env::temp_dir().display().to_string());
    println!(
        "fixlane runner benchmark: medians of {TRIALS} trials, {jobs} cores, SQLite store, repositories in {place}"
    );
    wall_time(jobs);
    time_to_first_gate(jobs);
    ready_delay();
    small_dag(jobs);
}
