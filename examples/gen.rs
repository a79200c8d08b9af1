//! Content generator for benchmarks and load tests: writes a complete, valid content root
//! (seedc.toml, schemas/, data/seeds/*.json, data/packs/*.json) with N records, shaped like
//! the sample game and cross-referenced so `seedc check --root DIR` accepts it.
//!
//! ```text
//! cargo run --release --example gen -- --out DIR --records N [--packs M] [--seed S]
//! ```
//!
//! Deterministic for a given `--seed` (splitmix64, one stream per collection so files can be
//! generated in parallel). Files are pretty-printed one field per line like the sample, so
//! 200k records come to roughly 80 MB.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use rayon::prelude::*;

#[derive(Parser)]
#[command(about = "Write a generated, valid seedc content root")]
struct Args {
    /// Directory to write the content root into (created if missing)
    #[arg(long)]
    out: PathBuf,
    /// Total number of seed records over all collections
    #[arg(long)]
    records: usize,
    /// Number of content packs, cycling through the four kinds
    #[arg(long, default_value_t = 4)]
    packs: usize,
    /// PRNG seed: the same seed writes the same bytes
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The collections of the sample config: share of the records, and the sample's count,
/// which is the floor when there are enough records to go round.
const COLLECTIONS: &[(&str, f64, usize)] = &[
    ("enemies", 0.45, 28),
    ("items", 0.35, 23),
    ("achievements", 0.05, 23),
    ("bosses", 0.04, 8),
    ("themes", 0.03, 8),
    ("traps", 0.02, 4),
    ("hazards", 0.02, 4),
    ("elements", 0.015, 8),
    ("races", 0.0125, 5),
    ("classes", 0.0125, 4),
];

fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    ensure!(args.records >= COLLECTIONS.len(), "--records must be at least {} (one per collection)", COLLECTIONS.len());
    let counts = Counts::new(args.records);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));

    std::fs::create_dir_all(args.out.join("data/seeds"))?;
    std::fs::create_dir_all(args.out.join("data/packs"))?;
    copy_dir(&repo.join("schemas"), &args.out.join("schemas"))?;

    let files: Vec<(String, String)> = COLLECTIONS
        .par_iter()
        .map(|(name, _, _)| {
            let mut g = Gen::new(args.seed, name, &counts);
            (format!("data/seeds/{name}.json"), g.seed_file(name))
        })
        .chain((0..args.packs).into_par_iter().map(|i| {
            let mut g = Gen::new(args.seed, &format!("pack{i}"), &counts);
            let (id, text) = g.pack(i);
            (format!("data/packs/{id}.json"), text)
        }))
        .collect();
    let mut bytes = 0;
    let mut largest = 0;
    for (rel, text) in &files {
        std::fs::write(args.out.join(rel), text).with_context(|| format!("cannot write {rel}"))?;
        bytes += text.len();
        largest = largest.max(text.len());
    }
    let daily: Vec<String> = (0..args.packs.min(4)).map(pack_id).collect();
    let config = config(&std::fs::read_to_string(repo.join("seedc.toml"))?, &daily, largest)?;
    std::fs::write(args.out.join("seedc.toml"), config)?;

    writeln!(
        std::io::stderr(),
        "wrote {} records and {} packs ({:.1} MB) to {} in {:.2?}",
        args.records,
        args.packs,
        bytes as f64 / 1e6,
        args.out.display(),
        started.elapsed()
    )?;
    Ok(())
}

/// The sample seedc.toml with `daily.packs` naming the generated packs, and the file size
/// limit raised when a generated file would exceed it.
fn config(sample: &str, daily: &[String], largest: usize) -> Result<String> {
    let mut out = String::with_capacity(sample.len());
    let (mut saw_daily, mut saw_limit, mut in_daily) = (false, false, false);
    for line in sample.lines() {
        if line.starts_with('[') {
            in_daily = line.trim() == "[daily]";
        }
        if in_daily && line.starts_with("packs = ") {
            let names: Vec<String> = daily.iter().map(|d| format!("{d:?}")).collect();
            writeln!(out, "packs = [{}]", names.join(", "))?;
            saw_daily = true;
        } else if line.starts_with("max_file_bytes = ") {
            let limit = (largest as u64 + 1).next_power_of_two().max(64 << 20);
            writeln!(out, "max_file_bytes = {limit}")?;
            saw_limit = true;
        } else {
            writeln!(out, "{line}")?;
        }
    }
    if !(saw_daily && saw_limit) {
        bail!("the sample seedc.toml no longer has `daily.packs` and `limits.max_file_bytes` lines to adapt");
    }
    Ok(out)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// How many records each collection gets.
struct Counts {
    by_name: Vec<(&'static str, usize)>,
}

impl Counts {
    fn new(total: usize) -> Counts {
        let sample_total: usize = COLLECTIONS.iter().map(|c| c.2).sum();
        let floor = |c: &(&str, f64, usize)| if total >= sample_total { c.2 } else { 1 };
        let floors: usize = COLLECTIONS.iter().map(floor).sum();
        let spare = total - floors;
        let mut by_name: Vec<(&'static str, usize)> = COLLECTIONS.iter().map(|c| (c.0, floor(c) + (spare as f64 * c.1) as usize)).collect();
        let assigned: usize = by_name.iter().map(|c| c.1).sum();
        by_name[0].1 += total - assigned;
        Counts { by_name }
    }
}

/// A JSON value that keeps its member order, written like serde_json's pretty printer.
enum J {
    O(Vec<(Cow<'static, str>, J)>),
    A(Vec<J>),
    S(String),
    I(i64),
    F(f64),
    B(bool),
}

macro_rules! obj {
    ($($k:literal => $v:expr),* $(,)?) => { J::O(vec![$((Cow::Borrowed($k), J::from($v))),*]) };
}

impl From<&str> for J {
    fn from(s: &str) -> J {
        J::S(s.to_owned())
    }
}
impl From<String> for J {
    fn from(s: String) -> J {
        J::S(s)
    }
}
impl From<i64> for J {
    fn from(i: i64) -> J {
        J::I(i)
    }
}
impl From<f64> for J {
    fn from(f: f64) -> J {
        J::F(f)
    }
}
impl From<bool> for J {
    fn from(b: bool) -> J {
        J::B(b)
    }
}
impl From<Vec<J>> for J {
    fn from(items: Vec<J>) -> J {
        J::A(items)
    }
}

impl J {
    fn push(&mut self, key: &'static str, value: impl Into<J>) {
        if let J::O(members) = self {
            members.push((Cow::Borrowed(key), value.into()));
        }
    }

    fn strings(items: Vec<String>) -> J {
        J::A(items.into_iter().map(J::S).collect())
    }

    fn write(&self, out: &mut String, indent: usize) {
        match self {
            J::O(m) if m.is_empty() => out.push_str("{}"),
            J::A(a) if a.is_empty() => out.push_str("[]"),
            J::O(members) => {
                out.push_str("{\n");
                for (i, (k, v)) in members.iter().enumerate() {
                    pad(out, indent + 2);
                    string(out, k);
                    out.push_str(": ");
                    v.write(out, indent + 2);
                    out.push_str(if i + 1 < members.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push('}');
            }
            J::A(items) => {
                out.push_str("[\n");
                for (i, v) in items.iter().enumerate() {
                    pad(out, indent + 2);
                    v.write(out, indent + 2);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push(']');
            }
            J::S(s) => string(out, s),
            J::I(i) => {
                let _ = write!(out, "{i}");
            }
            J::F(f) if f.fract() == 0.0 => {
                let _ = write!(out, "{f:.1}");
            }
            J::F(f) => {
                let _ = write!(out, "{f}");
            }
            J::B(b) => out.push_str(if *b { "true" } else { "false" }),
        }
    }
}

fn pad(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// splitmix64: tiny, fast, and good enough for plausible game numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A probability with two decimals in `lo..=hi` hundredths.
    fn hundredths(&mut self, lo: i64, hi: i64) -> f64 {
        self.range(lo, hi) as f64 / 100.0
    }

    /// Up to `k` distinct indices below `n`.
    fn distinct(&mut self, k: usize, n: usize) -> Vec<usize> {
        let k = k.min(n);
        let mut out = Vec::with_capacity(k);
        while out.len() < k {
            let i = self.below(n);
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    }
}

const ELEMENTS: &[&str] = &["fire", "ice", "lightning", "poison", "water", "earth", "holy", "shadow"];
const STATUS: &[&str] = &["burn", "freeze", "shock", "poisoned", "soak", "stagger", "smite", "curse"];
const CREATURES: &[&str] = &[
    "goblin", "kobold", "skeleton", "spider", "slime", "bat", "rat", "zombie", "wraith", "imp", "golem", "troll", "cultist", "mimic",
    "harpy", "wyrm", "ghoul", "lich", "basilisk", "drake",
];
const CREATURE_KINDS: &[&str] =
    &["scout", "brute", "shaman", "archer", "warden", "stalker", "knight", "hexer", "swarm", "lurker", "sentinel", "reaver"];
const ITEM_PREFIXES: &[&str] = &[
    "rusty", "iron", "steel", "oak", "bone", "silver", "obsidian", "ember", "frost", "storm", "shadow", "runed", "gilded", "ancient",
    "cracked",
];
const ITEM_BASES: &[(&str, &str)] = &[
    ("dagger", "weapon"),
    ("sword", "weapon"),
    ("axe", "weapon"),
    ("staff", "weapon"),
    ("bow", "weapon"),
    ("mace", "weapon"),
    ("armor", "armor"),
    ("mail", "armor"),
    ("robe", "armor"),
    ("shield", "shield"),
    ("buckler", "shield"),
    ("ring", "accessory"),
    ("amulet", "accessory"),
    ("potion", "consumable"),
    ("elixir", "consumable"),
    ("tonic", "consumable"),
    ("scroll", "scroll"),
];
const BEHAVIORS: &[&str] = &["melee", "ranged", "caster", "swarm", "ambusher", "support"];
const RARITIES: &[&str] = &["common", "common", "common", "uncommon", "uncommon", "rare", "epic", "legendary"];
const STATS: &[&str] = &["hp", "mana", "attack", "defense", "speed", "magic", "luck"];
const PLACES: &[&str] =
    &["stone", "fungal", "sunken", "crypt", "forge", "crystal", "bone", "ember", "frozen", "drowned", "hollow", "ashen"];
const PLACE_KINDS: &[&str] = &["halls", "caverns", "archive", "catacombs", "foundry", "grotto", "depths", "sanctum"];
const VERBS: &[&str] = &["strike", "howl", "curse", "bolt", "smash", "drain", "shroud", "rally", "burrow", "spit"];
const GLYPHS: &[&str] = &["g", "k", "s", "S", "j", "b", "r", "z", "W", "i", "G", "T", "c", "m", "h", "w", "u", "L", "B", "d"];
const SENTENCES: &[&str] = &[
    "It has been down here longer than the stairs.",
    "Hits hard, but telegraphs every swing.",
    "Travels in packs and flees when alone.",
    "Older miners tell stories about this one.",
    "Glows faintly in the dark.",
    "Nobody who met it twice tells the same story.",
    "Smells of smoke and old coins.",
    "Worth the detour if you have the potions for it.",
];

/// The id of record `i` of a collection: a plain word for the first few, then a suffix.
fn ident(words: &[String], i: usize) -> String {
    let base = &words[i % words.len()];
    if i < words.len() { base.clone() } else { format!("{base}_{}", i / words.len() + 1) }
}

fn title(id: &str) -> String {
    id.split('_')
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or(String::new(), |f| f.to_ascii_uppercase().to_string() + c.as_str())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn pair_words(a: &[&str], b: &[&str]) -> Vec<String> {
    a.iter().flat_map(|x| b.iter().map(move |y| format!("{x}_{y}"))).collect()
}

fn pack_id(i: usize) -> String {
    let kind = ["protocol", "incident", "artifact", "voice"][i % 4];
    format!("{kind}.gen{:04}", i + 1)
}

/// Generates one file's worth of content; every id it refers to is computed from the counts,
/// so references resolve without the other files being generated first.
struct Gen {
    rng: Rng,
    counts: Vec<(&'static str, usize)>,
    words: Vec<(&'static str, Vec<String>)>,
}

impl Gen {
    fn new(seed: u64, stream: &str, counts: &Counts) -> Gen {
        // FNV-1a of the stream name, so each file has its own deterministic sequence.
        let h = stream.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        let s = |v: &[&str]| v.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        let words = vec![
            ("elements", s(ELEMENTS)),
            ("enemies", pair_words(CREATURES, CREATURE_KINDS)),
            ("items", pair_words(ITEM_PREFIXES, &ITEM_BASES.iter().map(|b| b.0).collect::<Vec<_>>())),
            (
                "bosses",
                pair_words(
                    &["grukk", "vesh", "morrow", "kael", "sith", "orla", "brann", "ysolde"],
                    &["the_undying", "the_hollow", "the_bright", "the_drowned"],
                ),
            ),
            ("themes", pair_words(PLACES, PLACE_KINDS)),
            ("traps", pair_words(&["spike", "dart", "flame", "frost", "rune", "net", "pit", "blade"], &["trap", "snare", "plate"])),
            ("hazards", pair_words(&["lava", "ice", "spore", "acid", "storm", "miasma", "tar"], &["pool", "patch", "cloud", "vent"])),
            ("races", s(&["human", "dwarf", "elf", "orc", "halfling", "gnome", "tiefling", "goliath"])),
            ("classes", s(&["warrior", "mage", "rogue", "cleric", "ranger", "paladin", "warlock", "bard"])),
            (
                "achievements",
                pair_words(
                    &["first", "seasoned", "veteran", "master", "legendary"],
                    &["blood", "explorer", "hoarder", "slayer", "survivor", "delver"],
                ),
            ),
        ];
        Gen { rng: Rng(seed ^ h), counts: counts.by_name.clone(), words }
    }

    fn count(&self, collection: &str) -> usize {
        self.counts.iter().find(|c| c.0 == collection).map_or(0, |c| c.1)
    }

    fn id(&self, collection: &str, i: usize) -> String {
        let words = &self.words.iter().find(|w| w.0 == collection).expect("known collection").1;
        ident(words, i)
    }

    /// The id of a random record of `collection`.
    fn any(&mut self, collection: &str) -> String {
        let i = self.rng.below(self.count(collection));
        self.id(collection, i)
    }

    /// Up to `k` distinct ids of `collection`.
    fn some(&mut self, collection: &str, k: usize) -> Vec<String> {
        let n = self.count(collection);
        self.rng.distinct(k, n).into_iter().map(|i| self.id(collection, i)).collect()
    }

    fn color(&mut self) -> String {
        format!("#{:06x}", self.rng.next() & 0xff_ffff)
    }

    fn sentence(&mut self) -> String {
        self.rng.pick(SENTENCES).to_owned()
    }

    fn seed_file(&mut self, collection: &str) -> String {
        let n = self.count(collection);
        let mut out = String::with_capacity(n * 450 + 256);
        out.push_str("{\n");
        let _ = writeln!(out, "  \"$schema\": \"../../schemas/seeds/{collection}.file.schema.json\",");
        let _ = writeln!(out, "  \"version\": \"1.{}.0\",", self.rng.range(0, 9));
        out.push_str("  \"updated_at\": \"2026-01-13T00:00:00Z\",\n");
        out.push_str("  \"data\": [");
        for i in 0..n {
            let record = self.record(collection, i);
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            record.write(&mut out, 4);
        }
        out.push_str(if n == 0 { "]\n}\n" } else { "\n  ]\n}\n" });
        out
    }

    fn record(&mut self, collection: &str, i: usize) -> J {
        let id = self.id(collection, i);
        let r = &mut self.rng;
        match collection {
            "elements" => {
                let n = self.count("elements");
                let strong = self.rng.distinct(2, n).into_iter().filter(|&j| j != i).map(|j| self.id("elements", j)).collect();
                let weak = self.rng.distinct(2, n).into_iter().filter(|&j| j != i).map(|j| self.id("elements", j)).collect();
                obj! {
                    "id" => id.as_str(), "name" => title(&id), "color" => self.color(),
                    "status_effect" => STATUS[i % STATUS.len()], "damage_bonus" => self.rng.hundredths(110, 200),
                    "strong_against" => J::strings(strong), "weak_against" => J::strings(weak),
                    "description" => format!("{}. {}", title(&id), self.sentence()),
                }
            }
            "hazards" => {
                let trigger = r.pick(&["on_enter", "on_turn_end", "adjacent"]);
                let (damage, turns) = (r.range(1, 40), r.range(1, 10));
                obj! {
                    "id" => id.as_str(), "name" => title(&id), "element" => self.any("elements"),
                    "damage" => damage, "trigger" => trigger, "duration_turns" => turns,
                    "glyph" => "~", "color" => self.color(), "description" => self.sentence(),
                }
            }
            "traps" => {
                let mut t = obj! { "id" => id.as_str(), "name" => title(&id) };
                if r.chance(0.5) {
                    t.push("element", self.any("elements"));
                }
                let r = &mut self.rng;
                t.push("damage", r.range(0, 60));
                t.push("trigger", r.pick(&["pressure_plate", "tripwire", "proximity", "magic"]));
                t.push("detect_difficulty", r.range(1, 20));
                t.push("disarm_difficulty", r.range(1, 20));
                t.push("rearms", r.chance(0.3));
                t.push("description", self.sentence());
                t
            }
            "themes" => {
                let min = r.range(1, 90);
                let max = (min + r.range(0, 9)).min(99);
                let palette = obj! { "floor" => self.color(), "wall" => self.color(), "accent" => self.color(), "fog" => self.color() };
                let light = self.rng.hundredths(5, 100);
                let (hz, tr) = (self.rng.range(0, 2) as usize, self.rng.range(1, 2) as usize);
                obj! {
                    "id" => id.as_str(), "name" => title(&id), "min_floor" => min, "max_floor" => max,
                    "tileset" => format!("tiles_{id}"), "palette" => palette, "ambient_light" => light,
                    "music" => format!("music_{id}"), "hazards" => J::strings(self.some("hazards", hz)),
                    "traps" => J::strings(self.some("traps", tr)), "description" => self.sentence(),
                }
            }
            "items" => self.item(&id, i),
            "races" => {
                let mut mods = J::O(Vec::new());
                for s in self.rng.distinct(2, STATS.len()) {
                    mods.push(STATS[s], self.rng.range(-3, 10));
                }
                let xp = self.rng.hundredths(80, 130);
                let (res, vul) = (self.rng.range(0, 2) as usize, self.rng.range(0, 1) as usize);
                let mut gear = J::O(Vec::new());
                for slot in ["weapon", "pack"] {
                    if self.rng.chance(0.5) {
                        gear.push(slot, self.any("items"));
                    }
                }
                let traits = self.rng.distinct(2, VERBS.len()).into_iter().map(|v| format!("{}_born", VERBS[v])).collect();
                obj! {
                    "id" => id.as_str(), "name" => title(&id), "stat_modifiers" => mods, "xp_multiplier" => xp,
                    "resistances" => J::strings(self.some("elements", res)),
                    "vulnerabilities" => J::strings(self.some("elements", vul)),
                    "traits" => J::strings(traits), "starting_gear" => gear, "description" => self.sentence(),
                }
            }
            "classes" => {
                let primary = r.pick(&["attack", "defense", "speed", "magic"]);
                let stats = obj! {
                    "hp" => r.range(60, 140), "mana" => r.range(0, 80), "attack" => r.range(3, 14),
                    "defense" => r.range(2, 10), "speed" => r.range(8, 13),
                };
                let (hp, mana) = (r.range(5, 15), r.range(0, 10));
                let mut abilities = Vec::new();
                for (k, v) in self.rng.distinct(4, VERBS.len()).into_iter().enumerate() {
                    let mut a = obj! {
                        "id" => format!("{}_{}", VERBS[v], k + 1), "name" => title(VERBS[v]),
                        "unlock_level" => (k as i64) * 3 + 1, "mana_cost" => self.rng.range(0, 30), "cooldown" => self.rng.range(0, 12),
                    };
                    if self.rng.chance(0.4) {
                        a.push("element", self.any("elements"));
                    }
                    abilities.push(a);
                }
                obj! {
                    "id" => id.as_str(), "name" => title(&id), "primary_stat" => primary, "base_stats" => stats,
                    "hp_per_level" => hp, "mana_per_level" => mana,
                    "starting_items" => J::strings(self.some("items", 3)), "abilities" => abilities,
                    "description" => self.sentence(),
                }
            }
            "enemies" => {
                let min = r.range(1, 95);
                let max = (min + r.range(0, 4)).min(99);
                let hp = 8 + min * r.range(3, 12);
                let mut e = obj! {
                    "id" => id.as_str(), "name" => title(&id), "hp" => hp, "attack" => 2 + min * r.range(1, 3),
                    "defense" => min * r.range(0, 2) / 2, "speed" => r.range(6, 14), "xp" => hp / 2 + r.range(0, 10),
                };
                if self.rng.chance(0.6) {
                    e.push("element", self.any("elements"));
                }
                let k = self.rng.range(1, 2) as usize;
                let themes = self.some("themes", k);
                let r = &mut self.rng;
                e.push("min_floor", min);
                e.push("max_floor", max);
                e.push("themes", J::strings(themes));
                e.push("behavior", r.pick(BEHAVIORS));
                e.push("glyph", r.pick(GLYPHS));
                e.push("color", self.color());
                let k = self.rng.range(0, 2) as usize;
                let abilities = self.rng.distinct(k, VERBS.len()).into_iter().map(|v| format!("{}_attack", VERBS[v])).collect();
                e.push("abilities", J::strings(abilities));
                let drops = (0..self.rng.range(0, 2))
                    .map(|_| obj! { "item" => self.any("items"), "chance" => self.rng.hundredths(1, 30) })
                    .collect::<Vec<_>>();
                e.push("drops", drops);
                e
            }
            "bosses" => {
                let floor = r.range(5, 99);
                let (hp, attack, defense, speed, xp) = (floor * r.range(20, 60), floor * r.range(2, 4), floor, r.range(6, 14), floor * 40);
                let phases: Vec<J> = [0.75, 0.5, 0.25][..self.rng.range(1, 3) as usize]
                    .iter()
                    .map(|&t| obj! { "hp_threshold" => t, "ability" => format!("{}_{}", self.rng.pick(VERBS), self.rng.pick(VERBS)), "description" => self.sentence() })
                    .collect();
                let loot: Vec<J> = (0..self.rng.range(1, 4))
                    .map(|_| {
                        let min = self.rng.range(1, 3);
                        obj! { "item" => self.any("items"), "chance" => self.rng.hundredths(5, 100), "min_qty" => min, "max_qty" => min + self.rng.range(0, 2) }
                    })
                    .collect();
                let mut b = obj! {
                    "id" => id.as_str(), "name" => title(&id), "title" => format!("the {}", title(self.rng.pick(CREATURES))),
                    "hp" => hp, "attack" => attack, "defense" => defense, "speed" => speed, "xp" => xp, "floor" => floor,
                };
                if self.rng.chance(0.7) {
                    b.push("element", self.any("elements"));
                }
                b.push("theme", self.any("themes"));
                b.push("phases", phases);
                b.push("loot_table", loot);
                let minions = self.rng.range(0, 3) as usize;
                b.push("minions", J::strings(self.some("enemies", minions)));
                b.push("description", self.sentence());
                b
            }
            "achievements" => {
                let kinds = [
                    "kill_enemies",
                    "kill_enemy",
                    "defeat_boss",
                    "reach_floor",
                    "clear_theme",
                    "collect_item",
                    "win_with_class",
                    "win_with_race",
                    "collect_gold",
                ];
                let kind = kinds[i % kinds.len()];
                let mut criteria = obj! { "kind" => kind };
                let category = match kind {
                    "kill_enemies" | "kill_enemy" => {
                        if kind == "kill_enemy" {
                            criteria.push("enemy", self.any("enemies"));
                        }
                        criteria.push("count", self.rng.range(1, 500));
                        "combat"
                    }
                    "defeat_boss" => {
                        criteria.push("boss", self.any("bosses"));
                        "boss"
                    }
                    "reach_floor" => {
                        criteria.push("floor", self.rng.range(2, 99));
                        "exploration"
                    }
                    "clear_theme" => {
                        criteria.push("theme", self.any("themes"));
                        "exploration"
                    }
                    "collect_item" => {
                        criteria.push("item", self.any("items"));
                        "collection"
                    }
                    "win_with_class" => {
                        criteria.push("class", self.any("classes"));
                        "challenge"
                    }
                    "win_with_race" => {
                        criteria.push("race", self.any("races"));
                        "challenge"
                    }
                    _ => {
                        criteria.push("count", self.rng.range(100, 100_000));
                        "collection"
                    }
                };
                obj! {
                    "id" => id.as_str(), "name" => title(&id), "description" => self.sentence(), "category" => category,
                    "points" => self.rng.range(1, 20) * 5, "hidden" => self.rng.chance(0.1), "criteria" => criteria,
                }
            }
            other => unreachable!("no generator for {other}"),
        }
    }

    fn item(&mut self, id: &str, i: usize) -> J {
        let kind = ITEM_BASES[(i / ITEM_PREFIXES.len()) % ITEM_BASES.len()].1;
        let r = &mut self.rng;
        let rarity = r.pick(RARITIES);
        let value = r.range(5, 5000);
        let stack = if matches!(kind, "consumable" | "scroll") { r.range(5, 20) } else { 1 };
        let mut item = obj! {
            "id" => id, "name" => title(id), "type" => kind, "rarity" => rarity, "value" => value,
            "weight" => r.range(1, 250) as f64 / 10.0, "max_stack" => stack,
        };
        if self.rng.chance(0.3) {
            item.push("element", self.any("elements"));
        }
        let r = &mut self.rng;
        if matches!(kind, "consumable" | "scroll") {
            let mut effect = obj! {
                "kind" => r.pick(&["heal", "restore_mana", "cure_poison", "blind_enemies", "damage_area", "teleport"]),
                "magnitude" => r.range(0, 200),
            };
            if r.chance(0.3) {
                effect.push("radius", r.range(1, 5));
            }
            item.push("effect", effect);
        } else {
            let mut stats = J::O(Vec::new());
            for s in r.distinct(2, STATS.len()) {
                stats.push(STATS[s], r.range(-2, 30));
            }
            item.push("stats", stats);
        }
        item.push("description", self.sentence());
        item
    }

    /// Pack `i`: its id and file text. Kinds cycle PROTOCOL, INCIDENT, ARTIFACT, VOICE.
    fn pack(&mut self, i: usize) -> (String, String) {
        let id = pack_id(i);
        let (kind, schema_v, schema) = [
            ("PROTOCOL", "1.2", "protocol-1.2"),
            ("INCIDENT", "1.1", "incident-1.1"),
            ("ARTIFACT", "2.0", "artifact-2.0"),
            ("VOICE", "1.0", "voice-1.0"),
        ][i % 4];
        let mut p = obj! {
            "$schema" => format!("../../schemas/packs/{schema}.schema.json"), "pack_id" => id.as_str(),
            "version" => format!("1.{}.0", self.rng.range(0, 5)), "kind" => kind, "pack_schema_v" => schema_v,
            "title" => format!("Generated {} pack {}", kind.to_lowercase(), i + 1), "description" => self.sentence(),
        };
        let entries = self.rng.range(6, 16) as usize;
        let modifier = |g: &mut Gen| {
            let target = format!("{}.{}", g.rng.pick(&["player", "enemy", "boss", "loot", "dungeon"]), g.rng.pick(STATS));
            obj! { "target" => target, "op" => g.rng.pick(&["add", "mul", "set"]), "value" => g.rng.range(-20, 20) }
        };
        match kind {
            "PROTOCOL" => {
                let protocols = (0..entries)
                    .map(|e| {
                        let mods = (0..self.rng.range(0, 3)).map(|_| modifier(self)).collect::<Vec<_>>();
                        let flags = self
                            .rng
                            .distinct(2, 6)
                            .into_iter()
                            .map(|f| ["permadeath", "fixed_seed", "no_shops", "no_resting", "boss_rush", "standard_loadout"][f].to_owned())
                            .collect();
                        let mut p = obj! {
                            "id" => format!("protocol_{}", e + 1), "name" => format!("Protocol {}", e + 1),
                            "description" => self.sentence(), "modifiers" => mods, "flags" => J::strings(flags),
                            "weight" => self.rng.range(0, 100),
                        };
                        if e > 0 && self.rng.chance(0.3) {
                            p.push("exclusive_with", J::strings(vec![format!("protocol_{e}")]));
                        }
                        p
                    })
                    .collect::<Vec<_>>();
                p.push("protocols", protocols);
            }
            "INCIDENT" => {
                let incidents = (0..entries)
                    .map(|e| {
                        let min = self.rng.range(1, 90);
                        let spawns = (0..self.rng.range(1, 3))
                            .map(|_| {
                                let lo = self.rng.range(1, 4);
                                obj! { "enemy" => self.any("enemies"), "min" => lo, "max" => lo + self.rng.range(0, 3) }
                            })
                            .collect::<Vec<_>>();
                        let mut inc = obj! {
                            "id" => format!("incident_{}", e + 1), "name" => format!("Incident {}", e + 1),
                            "description" => self.sentence(), "min_floor" => min, "max_floor" => min + self.rng.range(0, 9),
                            "weight" => self.rng.range(1, 50), "spawns" => spawns,
                        };
                        if self.rng.chance(0.5) {
                            let mut m = modifier(self);
                            m.push("duration_turns", self.rng.range(5, 50));
                            inc.push("effects", vec![m]);
                        }
                        inc.push("themes", J::strings(self.some("themes", 1)));
                        inc
                    })
                    .collect::<Vec<_>>();
                p.push("incidents", incidents);
            }
            "ARTIFACT" => {
                let artifacts = (0..entries)
                    .map(|e| {
                        let trigger = self.rng.pick(&["passive", "on_hit", "on_kill", "on_hurt", "on_floor_start", "on_low_hp"]);
                        let mut effect = modifier(self);
                        if let J::O(m) = &mut effect {
                            m.insert(0, (Cow::Borrowed("trigger"), J::from(trigger)));
                        }
                        if trigger != "passive" {
                            effect.push("chance", self.rng.hundredths(5, 100));
                        }
                        obj! {
                            "id" => format!("artifact_{}", e + 1), "name" => format!("Artifact {}", e + 1),
                            "description" => self.sentence(),
                            "rarity" => self.rng.pick(&["common", "uncommon", "rare", "legendary", "cursed"]),
                            "effects" => vec![effect], "stack_limit" => self.rng.range(1, 5),
                        }
                    })
                    .collect::<Vec<_>>();
                p.push("artifacts", artifacts);
            }
            _ => {
                p.push("language", "en");
                p.push("narrator", "The Keeper of Embers");
                let mut lines = J::O(Vec::new());
                for e in 0..entries {
                    let variants = (0..self.rng.range(1, 3)).map(|_| self.sentence()).collect();
                    if let J::O(m) = &mut lines {
                        m.push((Cow::Owned(format!("line_{}", e + 1)), J::strings(variants)));
                    }
                }
                p.push("lines", lines);
            }
        }
        let mut text = String::new();
        p.write(&mut text, 0);
        text.push('\n');
        (id, text)
    }
}
