//! One fixture per diagnostic code `seedc check` emits: the sample content plus one edit,
//! checked end to end. Each case asserts the exit code and where the diagnostic points
//! (file, line, character column), and snapshots the human (`--color never`) and JSON output.

use serde_json::Value;

use crate::support::Root;

const ENEMIES: &str = "data/seeds/enemies.json";
const BOSSES: &str = "data/seeds/bosses.json";
const TRAPS: &str = "data/seeds/traps.json";
const PROTOCOL: &str = "data/packs/protocol.core.json";
const CONFIG: &str = "seedc.toml";

/// The cases, each a test of its own (so they run in parallel) and a row of [`CASES`]; a
/// case is named by its test, which is also its snapshot's name.
macro_rules! cases {
    ($($name:ident => { $($field:ident: $value:expr),* $(,)? }),* $(,)?) => {
        pub(crate) const CASES: &[Case] = &[$(Case { name: stringify!($name), $($field: $value),* }),*];

        mod case {
            $(
                #[test]
                fn $name() {
                    super::run_named(stringify!($name));
                }
            )*
        }
    };
}

pub(crate) struct Case {
    /// Also the snapshot name.
    pub(crate) name: &'static str,
    pub(crate) code: &'static str,
    pub(crate) file: &'static str,
    /// 1-based line and character column; `None` for a diagnostic about the whole file.
    pub(crate) at: Option<(usize, usize)>,
    /// Keep the sample's seedc.lock; otherwise it is removed so that an edit to a record
    /// does not also report `version-not-bumped`.
    pub(crate) lock: bool,
    pub(crate) setup: fn(&Root),
}

/// Replaces the first occurrence of `from` with `to`, on bytes (for invalid UTF-8).
fn edit_bytes(root: &Root, rel: &str, from: &[u8], to: &[u8]) {
    let bytes = std::fs::read(root.file(rel)).unwrap();
    let at = bytes.windows(from.len()).position(|w| w == from).unwrap_or_else(|| panic!("{rel} lacks {from:?}"));
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&bytes[at + from.len()..]);
    root.write(rel, out);
}

fn nested(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

cases! {
    syntax_trailing_comma => {
        code: "syntax",
        file: ENEMIES,
        at: Some((18, 7)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"stone_halls\"\n      ],", "\"stone_halls\",\n      ],"),
    },
    syntax_comment => {
        code: "syntax",
        file: ENEMIES,
        at: Some((9, 17)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"hp\": 12,", "\"hp\": 12, // tough"),
    },
    syntax_nan => {
        code: "syntax",
        file: ENEMIES,
        at: Some((9, 13)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"hp\": 12,", "\"hp\": NaN,"),
    },
    syntax_infinity => {
        // serde_json points past the sign, at the first character that cannot start a number.
        code: "syntax",
        file: ENEMIES,
        at: Some((10, 18)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"attack\": 4,", "\"attack\": -Infinity,"),
    },
    syntax_after_multibyte => {
        // The column counts characters: "ö" is two bytes but one column.
        code: "syntax",
        file: ENEMIES,
        at: Some((8, 37)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"name\": \"Goblin Scout\",", "\"name\": \"Göblin Scöut\", \"hp\": NaN,"),
    },
    syntax_envelope => {
        code: "syntax",
        file: ENEMIES,
        at: Some((3, 13)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"version\": \"1.3.0\"", "\"version\" \"1.3.0\""),
    },
    syntax_pack => {
        code: "syntax",
        file: PROTOCOL,
        at: Some((7, 33)),
        lock: false,
        setup: |r| r.edit(PROTOCOL, "\"title\": \"Core run protocols\",", "\"title\": \"Core run protocols\" \"x\","),
    },
    syntax_truncated_after_multibyte => {
        // A truncated file ending right after a multibyte character: the end of input is
        // reported at that character, on a character boundary.
        code: "syntax",
        file: ENEMIES,
        at: Some((8, 17)),
        lock: false,
        setup: |r| {
            let text = r.read(ENEMIES).replacen("\"Goblin Scout\"", "\"Göblin Scout\"", 1);
            r.write(ENEMIES, &text[..text.find('ö').unwrap() + 'ö'.len_utf8()]);
        },
    },
    syntax_multibyte_only => {
        // The underline of a one-byte span widens to the whole character (this panicked once).
        code: "syntax",
        file: PROTOCOL,
        at: Some((1, 1)),
        lock: false,
        setup: |r| r.write(PROTOCOL, "\u{800}"),
    },
    invalid_utf8 => {
        code: "invalid-utf8",
        file: ENEMIES,
        at: Some((8, 17)),
        lock: false,
        setup: |r| edit_bytes(r, ENEMIES, b"\"Goblin Scout\"", b"\"G\xf6blin Scout\""),
    },
    invalid_utf8_after_multibyte => {
        code: "invalid-utf8",
        file: ENEMIES,
        at: Some((8, 23)),
        lock: false,
        setup: |r| edit_bytes(r, ENEMIES, b"\"Goblin Scout\"", b"\"G\xc3\xb8blin \xff\""),
    },
    duplicate_key_record => {
        code: "duplicate-key",
        file: ENEMIES,
        at: Some((10, 7)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"hp\": 12,", "\"hp\": 12,\n      \"hp\": 13,"),
    },
    duplicate_key_envelope => {
        code: "duplicate-key",
        file: ENEMIES,
        at: Some((4, 3)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"version\": \"1.3.0\",", "\"version\": \"1.3.0\",\n  \"version\": \"1.4.0\","),
    },
    duplicate_key_pack => {
        code: "duplicate-key",
        file: PROTOCOL,
        at: Some((8, 3)),
        lock: false,
        setup: |r| r.edit(PROTOCOL, "\"title\": \"Core run protocols\",", "\"title\": \"Core run protocols\",\n  \"title\": \"Other\","),
    },
    unsafe_integer => {
        code: "unsafe-integer",
        file: ENEMIES,
        at: Some((13, 13)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"xp\": 5,", "\"xp\": 9007199254740992,"),
    },
    unsafe_integer_beyond_64_bits => {
        code: "unsafe-integer",
        file: ENEMIES,
        at: Some((13, 13)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"xp\": 5,", "\"xp\": -100000000000000000000,"),
    },
    number_out_of_range => {
        code: "number-out-of-range",
        file: ENEMIES,
        at: Some((13, 13)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"xp\": 5,", "\"xp\": 1e400,"),
    },
    nul_character => {
        code: "nul-character",
        file: ENEMIES,
        at: Some((8, 15)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"Goblin Scout\"", "\"Goblin\\u0000Scout\""),
    },
    nesting_too_deep => {
        // The 62nd bracket is level 65 of the file (envelope, data, record, then 62 arrays).
        code: "nesting-too-deep",
        file: ENEMIES,
        at: Some((9, 86)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"hp\": 12,", &format!("\"hp\": 12, \"deep\": {},", nested(70))),
    },
    nesting_far_too_deep => {
        // Deeper than serde_json's own recursion limit of 128: still our diagnostic, same place.
        code: "nesting-too-deep",
        file: ENEMIES,
        at: Some((9, 86)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"hp\": 12,", &format!("\"hp\": 12, \"deep\": {},", nested(500))),
    },
    file_too_large => {
        code: "file-too-large",
        file: ENEMIES,
        at: None,
        lock: false,
        setup: |r| {
            r.edit(CONFIG, "max_file_bytes = 67108864", "max_file_bytes = 20000");
            let text = r.read(ENEMIES);
            r.write(ENEMIES, format!("{text}{}", " ".repeat(4000)));
        },
    },
    record_too_large => {
        code: "record-too-large",
        file: ENEMIES,
        at: Some((6, 5)),
        lock: false,
        setup: |r| {
            r.edit(CONFIG, "max_record_bytes = 2097152", "max_record_bytes = 3000");
            r.edit(ENEMIES, "\"hp\": 12,", &format!("\"hp\": 12,{}", " ".repeat(3000)));
        },
    },
    invalid_envelope_version => {
        code: "invalid-envelope",
        file: ENEMIES,
        at: Some((3, 14)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"version\": \"1.3.0\"", "\"version\": \"1.3\""),
    },
    invalid_envelope_updated_at => {
        code: "invalid-envelope",
        file: ENEMIES,
        at: Some((4, 17)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"updated_at\": \"2026-01-13T00:00:00Z\"", "\"updated_at\": \"2026-01-13 00:00\""),
    },
    invalid_envelope_data_not_array => {
        // Without its records the collection is incomplete: no dangling references into it.
        code: "invalid-envelope",
        file: TRAPS,
        at: Some((4, 11)),
        lock: false,
        setup: |r| {
            r.write(
                TRAPS,
                "{\n  \"version\": \"1.1.0\",\n  \"updated_at\": \"2025-12-04T16:20:00Z\",\n  \"data\": { \"spike_pit\": {} }\n}\n",
            )
        },
    },
    invalid_envelope_unknown_member => {
        code: "invalid-envelope",
        file: ENEMIES,
        at: Some((4, 3)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"version\": \"1.3.0\",", "\"version\": \"1.3.0\",\n  \"records\": [],"),
    },
    invalid_envelope_pack_without_kind => {
        code: "invalid-envelope",
        file: PROTOCOL,
        at: Some((1, 1)),
        lock: false,
        setup: |r| r.edit(PROTOCOL, "  \"kind\": \"PROTOCOL\",\n", ""),
    },
    schema_violation_minimum => {
        code: "schema-violation",
        file: ENEMIES,
        at: Some((9, 13)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"hp\": 12,", "\"hp\": 0,"),
    },
    schema_violation_typo => {
        // An unknown field points at its key, with the field it was probably meant to be.
        code: "schema-violation",
        file: ENEMIES,
        at: Some((11, 7)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"defense\": 1,", "\"defence\": 1,"),
    },
    schema_violation_ref => {
        // `name` is a `$ref` into common.schema.json: the location names that file.
        code: "schema-violation",
        file: ENEMIES,
        at: Some((8, 15)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"name\": \"Goblin Scout\",", "\"name\": \"\","),
    },
    schema_violation_pack => {
        code: "schema-violation",
        file: PROTOCOL,
        at: Some((14, 20)),
        lock: false,
        setup: |r| r.edit(PROTOCOL, "\"modifiers\": [],", "\"modifiers\": {},"),
    },
    schema_violation_pack_unknown_field => {
        code: "schema-violation",
        file: PROTOCOL,
        at: Some((7, 3)),
        lock: false,
        setup: |r| r.edit(PROTOCOL, "\"title\":", "\"titel\":"),
    },
    duplicate_id => {
        code: "duplicate-id",
        file: ENEMIES,
        at: Some((221, 13)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"id\": \"cave_troll\"", "\"id\": \"goblin_scout\""),
    },
    missing_key => {
        code: "missing-key",
        file: ENEMIES,
        at: Some((220, 5)),
        lock: false,
        setup: |r| r.edit(ENEMIES, "\"id\": \"cave_troll\",", "\"identifier\": \"cave_troll\","),
    },
    dangling_reference => {
        code: "dangling-reference",
        file: BOSSES,
        at: Some((31, 19)),
        lock: false,
        setup: |r| r.edit(BOSSES, "\"item\": \"iron_sword\"", "\"item\": \"iron_swrd\""),
    },
    version_not_bumped => {
        code: "version-not-bumped",
        file: ENEMIES,
        at: Some((3, 14)),
        lock: true,
        setup: |r| r.edit(ENEMIES, "\"hp\": 12,", "\"hp\": 13,"),
    },
    pack_version_reused => {
        code: "pack-version-reused",
        file: PROTOCOL,
        at: Some((4, 14)),
        lock: true,
        setup: |r| r.edit(PROTOCOL, "\"Core run protocols\"", "\"Core protocols\""),
    },
    unsupported_pack_schema_unknown_major => {
        code: "unsupported-pack-schema",
        file: PROTOCOL,
        at: Some((6, 20)),
        lock: false,
        setup: |r| r.edit(PROTOCOL, "\"pack_schema_v\": \"1.2\"", "\"pack_schema_v\": \"9.0\""),
    },
    unsupported_pack_schema_newer_minor => {
        code: "unsupported-pack-schema",
        file: PROTOCOL,
        at: Some((6, 20)),
        lock: false,
        setup: |r| r.edit(PROTOCOL, "\"pack_schema_v\": \"1.2\"", "\"pack_schema_v\": \"1.3\""),
    },
    unsupported_pack_schema_outside_window => {
        code: "unsupported-pack-schema",
        file: PROTOCOL,
        at: Some((6, 20)),
        lock: false,
        setup: |r| {
            r.edit(CONFIG, "compat_window = 2", "compat_window = 1");
            r.edit(PROTOCOL, "\"pack_schema_v\": \"1.2\"", "\"pack_schema_v\": \"1.0\"");
        },
    },
    unsupported_pack_schema_malformed => {
        code: "unsupported-pack-schema",
        file: PROTOCOL,
        at: Some((6, 20)),
        lock: false,
        setup: |r| r.edit(PROTOCOL, "\"pack_schema_v\": \"1.2\"", "\"pack_schema_v\": \"v1\""),
    },
    unknown_pack_kind => {
        code: "unknown-pack-kind",
        file: PROTOCOL,
        at: Some((5, 11)),
        lock: false,
        setup: |r| r.edit(PROTOCOL, "\"kind\": \"PROTOCOL\"", "\"kind\": \"QUEST\""),
    },
    duplicate_pack => {
        code: "duplicate-pack",
        file: "data/packs/protocol.core/pack.json",
        at: Some((3, 14)),
        lock: false,
        setup: |r| r.write("data/packs/protocol.core/pack.json", r.read(PROTOCOL).replace("../../schemas", "../../../schemas")),
    },
    pack_id_mismatch => {
        code: "pack-id-mismatch",
        file: "data/packs/voice.core.fr.json",
        at: Some((3, 14)),
        lock: false,
        setup: |r| std::fs::rename(r.file("data/packs/voice.core.en.json"), r.file("data/packs/voice.core.fr.json")).unwrap(),
    },
    unknown_collection => {
        code: "unknown-collection",
        file: "data/seeds/spells.json",
        at: None,
        lock: false,
        setup: |r| r.write("data/seeds/spells.json", "{\"version\": \"1.0.0\", \"updated_at\": \"2026-01-13T00:00:00Z\", \"data\": []}\n"),
    },
    missing_seed_file => {
        // Checks that need the traps (themes name them) are skipped, not reported as dangling.
        code: "missing-seed-file",
        file: CONFIG,
        at: None,
        lock: false,
        setup: |r| std::fs::remove_file(r.file(TRAPS)).unwrap(),
    },
    unportable_name_case => {
        // Enemies.json beside enemies.json: one file on Windows and macOS.
        code: "unportable-name",
        file: "data/seeds/Enemies.json",
        at: None,
        lock: true,
        setup: |r| r.write("data/seeds/Enemies.json", r.read(ENEMIES)),
    },
    unportable_name_device => {
        code: "unportable-name",
        file: "data/seeds/CON.json",
        at: None,
        lock: true,
        setup: |r| r.write("data/seeds/CON.json", "{}\n"),
    },
    io => {
        code: "io",
        file: TRAPS,
        at: None,
        lock: false,
        setup: |r| {
            std::fs::remove_file(r.file(TRAPS)).unwrap();
            std::os::unix::fs::symlink(r.file("data/seeds/nowhere"), r.file(TRAPS)).unwrap();
        },
    },
}

/// The JSON diagnostics of a run, summary aside.
fn diagnostics(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|v| v.get("summary").is_none())
        .collect()
}

/// Runs the case named `name`: its diagnostic comes out at the right place, in both formats.
fn run_named(name: &str) {
    let case = CASES.iter().find(|c| c.name == name).expect("a case of that name");
    if let Err(why) = run_case(case) {
        panic!("{name}: {why}");
    }
}

fn run_case(case: &Case) -> Result<(), String> {
    let root = Root::sample();
    if !case.lock {
        std::fs::remove_file(root.file("seedc.lock")).unwrap();
    }
    (case.setup)(&root);

    let human = root.seedc(&["check", "--color", "never"]);
    let json = root.seedc(&["check", "--format", "json"]);
    insta::assert_snapshot!(format!("{}__human", case.name), human.stdout);
    insta::assert_snapshot!(format!("{}__json", case.name), json.stdout);
    if (human.code, json.code) != (1, 1) || !human.stderr.is_empty() || !json.stderr.is_empty() {
        return Err(format!("expected exit 1 and no stderr:\n{}\n{}", human.snapshot(), json.snapshot()));
    }
    let diags = diagnostics(&json.stdout);
    let at = |d: &Value| d["line"].as_u64().zip(d["column"].as_u64()).map(|(l, c)| (l as usize, c as usize));
    let found = diags.iter().find(|d| d["code"] == case.code && d["file"] == case.file && at(d) == case.at);
    if found.is_none_or(|d| d["severity"] != "error") {
        return Err(format!("no {} error in {} at {:?}:\n{}", case.code, case.file, case.at, json.stdout));
    }
    let header = format!("error[{}]", case.code);
    let origin = match case.at {
        Some((line, column)) => format!("--> {}:{line}:{column}", case.file),
        None => format!("--> {}", case.file),
    };
    if !human.stdout.contains(&header) || !human.stdout.contains(&origin) {
        return Err(format!("human output lacks {header:?} or {origin:?}:\n{}", human.stdout));
    }
    Ok(())
}

/// Every code `check` can emit has a case above; the verify codes are tested in build.rs.
#[test]
fn the_fixtures_cover_every_check_code() {
    let verify_or_elsewhere = [
        "corrupt-bundle",
        "missing-bundle",
        "unresolved-pack-ref",
        "corrupt-manifest",
        "missing-manifest",
        "index-mismatch",
        "missing-schema-file",
    ];
    for code in seedc::diag::Code::ALL {
        let name = code.name();
        if verify_or_elsewhere.contains(&name) {
            continue;
        }
        assert!(CASES.iter().any(|c| c.code == name), "no fixture for {name}");
    }
}

#[test]
fn several_errors_in_one_run_are_all_reported_in_file_order() {
    let root = Root::sample();
    std::fs::remove_file(root.file("seedc.lock")).unwrap();
    root.edit(ENEMIES, "\"hp\": 12,", "\"hp\": 0,");
    root.edit(ENEMIES, "\"defense\": 1,", "\"defence\": 1,");
    root.edit(BOSSES, "\"item\": \"iron_sword\"", "\"item\": \"iron_swrd\"");
    root.edit(TRAPS, "\"damage\": 10,", "\"damage\": 10,,");
    root.edit(PROTOCOL, "\"kind\": \"PROTOCOL\"", "\"kind\": \"QUEST\"");
    let run = root.seedc(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    let found: Vec<(String, String)> =
        diagnostics(&run.stdout).iter().map(|d| (d["file"].as_str().unwrap().to_owned(), d["code"].as_str().unwrap().to_owned())).collect();
    let expected = [
        (PROTOCOL, "unknown-pack-kind"),
        (BOSSES, "dangling-reference"),
        (ENEMIES, "schema-violation"),
        (ENEMIES, "schema-violation"),
        (ENEMIES, "schema-violation"),
        (TRAPS, "syntax"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect();
    assert_eq!(found, expected, "{}", run.stdout);
    let summary = run.json_lines().pop().unwrap();
    assert_eq!(summary["summary"]["errors"], 6, "{summary}");
}
