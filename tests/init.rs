//! `seedc init` end to end: adopting the sample's seed files (stripped of `$schema`, with no
//! seedc.toml and no schemas), starting in an empty folder, refusing to overwrite,
//! `--dry-run`, and `--wrap` for bare arrays.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{Run, repo, seedc_cmd};

/// A folder named `ember` (so the guessed project name is stable) inside a temp dir.
struct Folder {
    _tmp: tempfile::TempDir,
    path: PathBuf,
}

impl Folder {
    fn empty() -> Folder {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("ember");
        std::fs::create_dir(&path).unwrap();
        Folder { _tmp: tmp, path }
    }

    /// The sample's seed files as a studio would have them: no `$schema`, no seedc.toml, no
    /// schemas/, no seedc.lock, no packs.
    fn sample_seeds() -> Folder {
        let folder = Folder::empty();
        let seeds = repo().join("data/seeds");
        for entry in std::fs::read_dir(&seeds).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let stripped: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("\"$schema\":")).collect();
            assert_eq!(stripped.len() + 1, text.lines().count(), "{} has one `$schema` line", path.display());
            folder.write(&format!("data/seeds/{}", path.file_name().unwrap().to_str().unwrap()), &(stripped.join("\n") + "\n"));
        }
        folder
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    fn seedc(&self, args: &[&str]) -> Run {
        let mut cmd = seedc_cmd();
        cmd.env("SOURCE_DATE_EPOCH", "1767225600").arg("--root").arg(&self.path).args(args);
        Run::of(cmd.output().unwrap(), &self.path)
    }

    /// Every file under the folder with its text.
    fn files(&self) -> BTreeMap<String, String> {
        fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    out.insert(path.strip_prefix(root).unwrap().display().to_string(), std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.path, &self.path, &mut out);
        out
    }
}

/// The diagnostics of a JSON run but `version-not-bumped`: an edit without a version bump is
/// that too, against the lock init wrote (which shows the lock works).
fn codes(run: &Run) -> Vec<(String, String, String)> {
    run.json_lines()
        .iter()
        .filter(|l| l.get("code").is_some_and(|c| c != "version-not-bumped"))
        .map(|l| {
            (l["code"].as_str().unwrap().to_owned(), l["file"].as_str().unwrap().to_owned(), l["pointer"].as_str().unwrap_or("").to_owned())
        })
        .collect()
}

#[test]
fn init_adopts_the_sample_seed_files() {
    let folder = Folder::sample_seeds();
    let init = folder.seedc(&["init"]);
    assert_eq!(init.code, 0, "{}", init.snapshot());
    insta::assert_snapshot!("init_sample_report", init.snapshot());
    insta::assert_snapshot!("init_sample_config", folder.read("seedc.toml"));
    insta::assert_snapshot!("init_sample_bosses_schema", folder.read("schemas/seeds/bosses.schema.json"));

    let check = folder.seedc(&["check"]);
    assert_eq!(check.code, 0, "check passes on the untouched files: {}", check.snapshot());
    let build = folder.seedc(&["build", "--locked"]);
    assert_eq!(build.code, 0, "the lock init wrote is the one build would: {}", build.snapshot());

    folder.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": \"12\",");
    let wrong_type = folder.seedc(&["check", "--format", "json"]);
    assert_eq!(wrong_type.code, 1, "{}", wrong_type.snapshot());
    assert_eq!(codes(&wrong_type), [("schema-violation".into(), "data/seeds/enemies.json".into(), "/data/0/hp".into())]);
    folder.edit("data/seeds/enemies.json", "\"hp\": \"12\",", "\"hp\": 12,");

    let bosses = folder.read("data/seeds/bosses.json");
    let loot = bosses.find("\"loot_table\"").unwrap();
    let item = loot + bosses[loot..].find("\"item\": \"").unwrap() + "\"item\": \"".len();
    let name = &bosses[item..item + bosses[item..].find('"').unwrap()];
    folder.write("data/seeds/bosses.json", &format!("{}{name}_renamed{}", &bosses[..item], &bosses[item + name.len()..]));
    let dangling = folder.seedc(&["check", "--format", "json"]);
    assert_eq!(dangling.code, 1, "{}", dangling.snapshot());
    let found = codes(&dangling);
    assert_eq!(found.len(), 1, "only the reference, not also an enum of item names: {found:?}");
    assert_eq!(found[0].0, "dangling-reference");
    assert_eq!(found[0].1, "data/seeds/bosses.json");
    assert!(found[0].2.starts_with("/data/0/loot_table/0/item"), "{found:?}");
    assert!(dangling.stdout.contains(&format!("{name}_renamed")), "{}", dangling.stdout);
}

#[test]
fn init_in_an_empty_folder_starts_a_root_that_checks() {
    let folder = Folder::empty();
    let init = folder.seedc(&["init"]);
    assert_eq!(init.code, 0, "{}", init.snapshot());
    insta::assert_snapshot!("init_empty_report", init.snapshot());
    let written: Vec<String> = folder.files().into_keys().collect();
    assert_eq!(written, ["data/seeds/items.json", "schemas/seeds/items.schema.json", "seedc.lock", "seedc.toml"]);
    let check = folder.seedc(&["check"]);
    assert_eq!(check.code, 0, "{}", check.snapshot());
    assert!(check.stdout.contains("no problems"), "{}", check.stdout);
}

#[test]
fn init_never_overwrites_without_force() {
    let folder = Folder::sample_seeds();
    folder.write("seedc.toml", "# ours\n");
    let before = folder.files();
    let refused = folder.seedc(&["init"]);
    assert_eq!(refused.code, 2, "{}", refused.snapshot());
    assert!(refused.stderr.contains("seedc.toml already exists") && refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(folder.files(), before, "nothing was written");

    let forced = folder.seedc(&["init", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.snapshot());
    assert_ne!(folder.read("seedc.toml"), "# ours\n");
    // A second run finds everything it would write, seedc.lock included.
    let again = folder.seedc(&["init"]);
    assert_eq!(again.code, 2, "{}", again.snapshot());
    assert!(again.stderr.contains("schemas/seeds/bosses.schema.json") && again.stderr.contains("seedc.lock"), "{}", again.stderr);
}

#[test]
fn init_dry_run_writes_nothing() {
    for folder in [Folder::sample_seeds(), Folder::empty()] {
        let before = folder.files();
        let run = folder.seedc(&["init", "--dry-run"]);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        assert!(run.stdout.contains("would write seedc.toml\n") && run.stdout.contains("would write seedc.lock\n"), "{}", run.stdout);
        assert!(run.stderr.contains("nothing written (--dry-run)"), "{}", run.stderr);
        assert_eq!(folder.files(), before);
    }
    let json = Folder::sample_seeds().seedc(&["init", "--dry-run", "--format", "json"]);
    let lines = json.json_lines();
    assert_eq!(lines.len(), 1, "{}", json.stdout);
    let bosses = &lines[0]["init"]["collections"][1];
    assert_eq!(bosses["name"], "bosses");
    assert!(
        bosses["references"].as_array().unwrap().iter().any(|r| r["path"] == "/loot_table/*/item" && r["collection"] == "items"),
        "{bosses}"
    );
}

#[test]
fn init_wraps_a_bare_array_only_when_asked() {
    let folder = Folder::empty();
    let records = "[\n  { \"id\": \"rat\", \"hp\": 3 },\n  { \"id\": \"bat\", \"hp\": 2 }\n]\n";
    folder.write("data/seeds/enemies.json", records);
    let refused = folder.seedc(&["init"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(refused.stderr.contains("data/seeds/enemies.json: a bare array of records; `seedc init --wrap`"), "{}", refused.stderr);
    assert_eq!(folder.files().len(), 1, "nothing was written");

    let wrapped = folder.seedc(&["init", "--wrap"]);
    assert_eq!(wrapped.code, 0, "{}", wrapped.snapshot());
    assert!(wrapped.stdout.contains("wrote data/seeds/enemies.json (its records in the envelope)"), "{}", wrapped.stdout);
    let text = folder.read("data/seeds/enemies.json");
    assert_eq!(text, format!("{{\n  \"version\": \"1.0.0\",\n  \"updated_at\": \"2026-01-01T00:00:00Z\",\n  \"data\": {}}}\n", records));
    let check = folder.seedc(&["check"]);
    assert_eq!(check.code, 0, "{}", check.snapshot());
}

#[test]
fn init_writes_nothing_when_the_check_refuses_its_guesses() {
    let folder = Folder::empty();
    folder.write(
        "data/seeds/waves.json",
        "{\"version\": \"1.0.0\", \"updated_at\": \"2026-01-01T00:00:00Z\", \"data\": [{\"size\": 3}, {\"size\": 3}]}\n",
    );
    let before = folder.files();
    let run = folder.seedc(&["init"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stdout.contains("key          id (the default: no field is unique in every record)"), "{}", run.stdout);
    assert!(run.stdout.contains("error[missing-key]"), "the check's diagnostics follow: {}", run.stdout);
    assert!(run.stderr.contains("so nothing was written"), "{}", run.stderr);
    assert_eq!(folder.files(), before);
}
