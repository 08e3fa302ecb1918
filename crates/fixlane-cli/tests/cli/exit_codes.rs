//! The exit codes of their own: a config that is not valid (5) and a store that cannot be
//! opened, reached or written (6), whichever command meets them; and a store error that names
//! its cause once. A rolled-back canary (4) is provoked in `canary.rs`.

use crate::support::Sandbox;

#[test]
fn a_config_that_is_not_valid_exits_5_from_every_command_that_reads_it() {
    let sandbox = Sandbox::example();
    sandbox.write("fixlane.toml", "[project]\nname = \"x\"\njunk = 3\n");
    for arguments in [
        vec!["config", "check"],
        vec!["run"],
        vec!["ci"],
        vec!["canary"],
        vec!["window"],
    ] {
        let run = sandbox.fixlane(&arguments);
        assert_eq!(run.code(), 5, "{}:\n{}", arguments.join(" "), run.stderr());
        assert!(
            run.stderr().contains("fixlane.toml is not valid"),
            "{}: {}",
            arguments.join(" "),
            run.stderr()
        );
    }
}

#[test]
fn a_store_that_cannot_be_reached_or_understood_exits_6() {
    let sandbox = Sandbox::example();
    for db in ["postgres://127.0.0.1:1/x", "mysql://somewhere/db"] {
        for arguments in [vec!["run"], vec!["list"], vec!["audit", "verify"]] {
            let mut with_flag = vec!["--db", db];
            with_flag.extend(&arguments);
            let run = sandbox.fixlane(&with_flag);
            assert_eq!(
                run.code(),
                6,
                "--db {db} {}:\n{}",
                arguments.join(" "),
                run.stderr()
            );
            // The advice about the flag is the command line's, given once.
            assert_eq!(
                run.stderr().matches("FIXLANE_DB").count(),
                1,
                "{}",
                run.stderr()
            );
        }
    }
}

#[test]
fn a_store_that_refuses_a_write_names_the_database_error_once() {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n\n[gates.build]\nrun = \"true\"\ntier = \"critical\"\n",
    );
    sandbox.commit("config");
    sandbox.fixlane(&["run"]).expect_code(0);
    let status = std::process::Command::new("sqlite3")
        .arg(sandbox.db())
        .arg(
            "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'writes refused here'); END;",
        )
        .status()
        .expect("the sqlite3 command");
    assert!(status.success());
    let run = sandbox.fixlane(&["run"]);
    run.expect_code(6);
    let stderr = run.stderr();
    assert!(
        stderr.contains("could not append to the audit log"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("writes refused here").count(), 1, "{stderr}");
}
