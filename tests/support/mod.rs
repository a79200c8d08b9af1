//! Shared helpers: a copy of the sample content root in a temp dir, running the binary,
//! and access to the test services.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) mod services;
pub(crate) use services::services;

/// The repository root, which is itself the sample content root.
pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Opens the content root in `root` and checks it as `mode` does.
pub(crate) fn check(root: &Path, mode: seedc::check::Mode) -> anyhow::Result<(seedc::check::Checked, seedc::diag::Sink)> {
    seedc::check::run(&seedc::project::Project::open(root)?, mode)
}

/// A fresh copy of the sample content root (seedc.toml, seedc.lock, data/, schemas/).
pub(crate) struct Root {
    pub dir: tempfile::TempDir,
}

impl Root {
    pub(crate) fn sample() -> Root {
        let dir = tempfile::tempdir().expect("temp dir");
        for entry in ["seedc.toml", "seedc.lock"] {
            let from = repo().join(entry);
            if from.exists() {
                std::fs::copy(&from, dir.path().join(entry)).expect("copy");
            }
        }
        copy_dir(&repo().join("data"), &dir.path().join("data"));
        copy_dir(&repo().join("schemas"), &dir.path().join("schemas"));
        Root { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn file(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.file(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub(crate) fn write(&self, rel: &str, text: impl AsRef<[u8]>) {
        let path = self.file(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Replaces the first occurrence of `from` in a file; panics if absent, so a fixture
    /// that no longer matches the sample fails loudly instead of testing nothing.
    pub(crate) fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, text.replacen(from, to, 1));
    }

    /// Runs seedc with `--root` set to this root.
    pub(crate) fn seedc(&self, args: &[&str]) -> Run {
        let mut cmd = seedc_cmd();
        cmd.arg("--root").arg(self.path()).args(args);
        Run::of(cmd.output().expect("run seedc"), self.path())
    }
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs git in `dir` with an identity and no user or system config; fails the test when
/// git does.
pub(crate) fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=seedc", "-c", "user.email=seedc@example.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The seedc binary with a clean, deterministic environment.
pub(crate) fn seedc_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedc"));
    cmd.env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("SEEDC_ENV")
        .env("CI", "true");
    cmd
}

/// The outcome of a run, with the temp root replaced by `[ROOT]` for snapshots.
#[derive(Debug)]
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub(crate) fn of(output: Output, root: &Path) -> Run {
        let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&root.display().to_string(), "[ROOT]");
        Run { code: output.status.code().unwrap_or(-1), stdout: clean(&output.stdout), stderr: clean(&output.stderr) }
    }

    /// Exit code, stdout and stderr in one text, for snapshots.
    pub(crate) fn snapshot(&self) -> String {
        format!("exit: {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }

    /// The JSON lines of `--format json`, parsed.
    pub(crate) fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    }
}
