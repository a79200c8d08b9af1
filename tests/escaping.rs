//! Content text never reaches a terminal raw: a record whose key and values carry ESC
//! sequences, C1 controls and bidi overrides goes through every command and format that can
//! print it, and no byte of stdout or stderr may be a C0 control other than newline and tab,
//! a C1 control, or a bidi control (the Trojan-Source class).

use serde_json::{Value, json};

use crate::support::services::{Env, edit_records, set_field};
use crate::support::{Root, Run};

/// A clear-screen sequence, its C1 form, bidi overrides and isolates, a bell, a NEL and a
/// line separator: each would rewrite a terminal, forge a CI log line or hide code.
const HAZARDS: &str = "\u{1b}[2J\u{1b}]0;title\u{7}\u{9b}2J\u{202e}evil\u{202c}\u{2067}x\u{2069}\u{85}\u{2028}\u{7f}";

/// Every character that must never be printed raw, with where it was found.
fn hazards_in(text: &str) -> Vec<(usize, char)> {
    let bidi = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}');
    text.char_indices().filter(|&(_, c)| (c.is_control() && c != '\n' && c != '\t') || bidi(c)).collect()
}

/// Fails naming the command, the stream and the first raw characters.
fn assert_clean(what: &str, run: &Run) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let found = hazards_in(text);
        assert!(
            found.is_empty(),
            "{what}: raw control or bidi characters on {stream} at {:?}:\n{}",
            &found[..found.len().min(5)],
            run.snapshot()
        );
    }
}

/// The sample with the hazards in a record's values (valid content: it builds and deploys).
fn poison_values(root: &Root) {
    edit_records(root, "enemies", |records| {
        set_field(records, "goblin_scout", "name", json!(format!("Goblin{HAZARDS}")));
        set_field(records, "cave_rat", "name", json!(format!("{HAZARDS}Rat{HAZARDS}")));
    });
}

/// The hazards in a record's key too, and an error on that record (check fails on it).
fn poison_keys(root: &Root) {
    poison_values(root);
    edit_records(root, "enemies", |records| {
        set_field(records, "cave_rat", "hp", json!(0));
        set_field(records, "cave_rat", "id", json!(format!("rat{HAZARDS}")));
        let bad: Value = json!({ format!("key{HAZARDS}"): 1 });
        set_field(records, "goblin_scout", "stats", bad);
    });
}

#[test]
fn check_escapes_keys_values_and_messages_in_every_format() {
    let root = Root::sample();
    poison_keys(&root);
    for format in ["human", "json", "github"] {
        let run = root.seedc(&["check", "--format", format]);
        assert_eq!(run.code, 1, "{}", run.snapshot());
        assert_clean(&format!("check --format {format}"), &run);
        if format == "json" {
            // Escaped, not lost: the JSON still carries the exact characters.
            let lines = run.json_lines();
            assert!(lines.iter().any(|l| l.to_string().contains('\u{202e}')), "{}", run.stdout);
        }
    }
    // Colour on: only the renderers' own SGR sequences may carry an ESC.
    let run = root.seedc(&["check", "--color", "always"]);
    let stray: Vec<_> = run.stdout.match_indices('\u{1b}').filter(|(at, _)| !run.stdout[at + 1..].starts_with('[')).collect();
    assert!(stray.is_empty() && !run.stdout.contains("\u{1b}[2J"), "{}", run.stdout);
}

#[test]
fn build_verify_diff_and_publish_escape_the_content() {
    let base = Root::sample();
    let root = Root::sample();
    poison_values(&root);
    let run = root.seedc(&["build", "-v"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_clean("build -v", &run);
    for format in ["human", "json", "github"] {
        let run = root.seedc(&["verify", "--format", format]);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        assert_clean(&format!("verify --format {format}"), &run);
    }
    for format in ["human", "json", "github", "markdown"] {
        let run = root.seedc(&["diff", base.path().to_str().unwrap(), "--format", format]);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        assert_clean(&format!("diff --format {format}"), &run);
        if format != "github" {
            assert!(run.stdout.contains("goblin_scout"), "diff --format {format} names the record:\n{}", run.stdout);
        }
    }
    let store = tempfile::tempdir().unwrap();
    let url = format!("file://{}", store.path().display());
    for format in ["human", "json"] {
        let run = root.seedc(&["publish", &url, "-v", "--format", format]);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        assert_clean(&format!("publish --format {format}"), &run);
    }
}

#[test]
fn deploy_and_status_escape_field_changes() {
    let Some(env) = Env::new("escaping") else { return };
    env.deploy(&[], 0);
    poison_values(&env.root);
    for (args, code) in [
        (&["deploy", "--dry-run", "-v"][..], 0),
        (&["deploy", "--dry-run", "-v", "--format", "json"][..], 0),
        (&["status", "-v"][..], 1),
        (&["deploy", "-v"][..], 0),
    ] {
        let run = env.seedc(args);
        assert_eq!(run.code, code, "{args:?}\n{}", run.snapshot());
        assert_clean(&args.join(" "), &run);
        if args.contains(&"-v") && !args.contains(&"json") && args[0] == "deploy" {
            assert!(run.stdout.contains("/name: \"Goblin Scout\" -> \"Goblin\\u001b[2J"), "{args:?}:\n{}", run.stdout);
        }
    }
    // A hot-fix in SQL that writes the hazards: the drift lines escape them too.
    env.db
        .client()
        .execute("UPDATE enemies SET data = jsonb_set(data, '{name}', to_jsonb($1::text)) WHERE id = 'goblin_scout'", &[&HAZARDS])
        .unwrap();
    for args in [&["status", "-v"][..], &["deploy", "--dry-run", "-v"][..]] {
        let run = env.seedc(args);
        assert_clean(&args.join(" "), &run);
    }
    // A saved plan of that repair, shown in every format, then refused after another
    // hot-fix: the refusal names the fields written, escaped.
    let plan = env.root.path().join("plan.json");
    let plan = plan.to_str().unwrap();
    let run = env.seedc(&["deploy", "--dry-run", "--save-plan", plan]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    for format in ["human", "json", "markdown"] {
        let run = env.seedc(&["show", plan, "--format", format]);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        assert_clean(&format!("show --format {format}"), &run);
    }
    env.db
        .client()
        .execute("UPDATE enemies SET data = jsonb_set(data, '{name}', to_jsonb($1::text)) WHERE id = 'cave_rat'", &[&format!("x{HAZARDS}")])
        .unwrap();
    let run = env.seedc(&["deploy", "--plan", plan]);
    assert_eq!(run.code, 4, "{}", run.snapshot());
    assert!(run.stderr.contains("cave_rat: changed outside seedc: /name"), "{}", run.snapshot());
    assert_clean("deploy --plan (stale)", &run);
}
