//! The cost of finding the affected packages, on the size the budget is set for: a workspace of
//! 10 000 files in 100 packages, each package depending on the one before it (a chain, the
//! worst case for the dependents walk), for a Cargo workspace, a Go module and an npm
//! workspace, a change at the bottom of the chain. For Go also a change at its top, which no
//! package imports: every Go file must then be read to be sure, where a change at the bottom
//! is decided by a file of each package. The budget is 50 ms a run; the figures printed are the median and worst wall time
//! of several trials and the CPU time a run took (all threads), which a loaded machine does not
//! inflate.
//!
//! Run with `cargo bench -p fixlane-runner --bench packages`.

#![expect(
    clippy::expect_used,
    reason = "a benchmark that cannot set up its sandbox has nothing to measure: it fails loudly"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use fixlane_core::affected::GlobalInputs;
use fixlane_runner::packages::affected_packages;

const PACKAGES: usize = 100;
const FILES_PER_PACKAGE: usize = 100;
const TRIALS: usize = 15;
const BUDGET: Duration = Duration::from_millis(50);

fn write(root: &Path, file: &str, contents: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("directory");
    std::fs::write(path, contents).expect("file");
}

fn cargo(root: &Path) -> String {
    write(
        root,
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\n",
    );
    for index in 0..PACKAGES {
        let dependency = if index == 0 {
            String::new()
        } else {
            format!(
                "[dependencies]\np{} = {{ path = \"../p{}\" }}\n",
                index - 1,
                index - 1
            )
        };
        write(
            root,
            &format!("crates/p{index}/Cargo.toml"),
            &format!(
                "[package]\nname = \"p{index}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{dependency}"
            ),
        );
        for file in 1..FILES_PER_PACKAGE {
            write(
                root,
                &format!("crates/p{index}/src/m{file}.rs"),
                "pub fn f() {}\n",
            );
        }
    }
    "crates/p0/src/m1.rs".to_owned()
}

fn go(root: &Path) -> String {
    write(root, "go.mod", "module example.com/big\n\ngo 1.22\n");
    for index in 0..PACKAGES {
        let import = if index == 0 {
            String::new()
        } else {
            format!(
                "import (\n\t\"fmt\"\n\t\"example.com/big/p{}\"\n)\n",
                index - 1
            )
        };
        for file in 0..FILES_PER_PACKAGE {
            write(
                root,
                &format!("p{index}/f{file}.go"),
                &format!(
                    "// Package p{index}.\npackage p{index}\n\n{import}\nfunc F{file}() {{}}\n"
                ),
            );
        }
    }
    "p0/f1.go".to_owned()
}

fn npm(root: &Path) -> String {
    write(
        root,
        "package.json",
        r#"{ "name": "big", "private": true, "workspaces": ["packages/*"] }"#,
    );
    for index in 0..PACKAGES {
        let dependency = if index == 0 {
            String::new()
        } else {
            format!(r#", "dependencies": {{ "p{}": "*" }}"#, index - 1)
        };
        write(
            root,
            &format!("packages/p{index}/package.json"),
            &format!(r#"{{ "name": "p{index}"{dependency} }}"#),
        );
        for file in 1..FILES_PER_PACKAGE {
            write(
                root,
                &format!("packages/p{index}/src/m{file}.js"),
                "export {};\n",
            );
        }
    }
    "packages/p0/src/m1.js".to_owned()
}

/// This process's CPU time so far (user and system, every thread), from `/proc/self/stat`, in
/// clock ticks of 10 ms: summed over the trials it says what a run costs on an idle machine,
/// which wall time on a shared one does not.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After `(comm)`: state is field 3, utime 14 and stime 15 (1-based, counting pid and comm).
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// One case: what it is called, the workspace it builds (returning the file at the bottom of
/// the chain), the file changed instead when not that one, and how many dependents it has.
struct Case {
    label: &'static str,
    build: fn(&Path) -> String,
    changed: Option<&'static str>,
    dependents: usize,
}

fn main() {
    let globals = GlobalInputs::builtin();
    println!(
        "affected packages, {PACKAGES} packages x {FILES_PER_PACKAGE} files, a change at the bottom of a chain (budget {} ms):",
        BUDGET.as_millis()
    );
    let cases = [
        Case {
            label: "cargo",
            build: cargo,
            changed: None,
            dependents: PACKAGES - 1,
        },
        Case {
            label: "go",
            build: go,
            changed: None,
            dependents: PACKAGES - 1,
        },
        Case {
            label: "go top",
            build: go,
            changed: Some("p99/f1.go"),
            dependents: 0,
        },
        Case {
            label: "npm",
            build: npm,
            changed: None,
            dependents: PACKAGES - 1,
        },
    ];
    for case in cases {
        let kind = case.label;
        let directory = tempfile::tempdir().expect("temp dir");
        let bottom = (case.build)(directory.path());
        let changed = vec![case.changed.map_or(bottom, str::to_owned)];
        // One warm-up run: the page cache is warm in a real run too, as git just read the tree.
        let first = affected_packages(directory.path(), &changed, &globals);
        assert_eq!(
            first.all().len(),
            case.dependents + 1,
            "{kind}: the changed package and its dependents"
        );
        let ticks_before = cpu_ticks();
        let samples: Vec<Duration> = (0..TRIALS)
            .map(|_| {
                let started = Instant::now();
                let affected = affected_packages(directory.path(), &changed, &globals);
                let took = started.elapsed();
                assert_eq!(affected.dependents.len(), case.dependents);
                took
            })
            .collect();
        let cpu_ms = match (ticks_before, cpu_ticks()) {
            #[expect(
                clippy::cast_precision_loss,
                reason = "a few thousand ticks, shown to a tenth of a millisecond"
            )]
            (Some(before), Some(after)) => {
                format!("{:.1} ms", (after - before) as f64 * 10.0 / TRIALS as f64)
            }
            _ => "unknown".to_owned(),
        };
        let median = median(samples.clone());
        let worst = samples.iter().max().copied().unwrap_or_default();
        println!(
            "  {kind:<6} median {:>6.2} ms, worst {:>6.2} ms, CPU {cpu_ms} a run{}",
            median.as_secs_f64() * 1000.0,
            worst.as_secs_f64() * 1000.0,
            if median <= BUDGET {
                ""
            } else {
                "  OVER BUDGET"
            }
        );
    }
}
