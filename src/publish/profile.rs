//! AWS profiles: the static keys, region and endpoint of a named profile in the shared
//! files (`~/.aws/credentials`, `~/.aws/config`, or `AWS_SHARED_CREDENTIALS_FILE` and
//! `AWS_CONFIG_FILE`). object_store reads the environment but not these files; role
//! assumption and SSO profiles are the AWS CLI's to resolve (export its credentials).

use std::path::PathBuf;

use anyhow::Result;

use crate::exit::{Exit, ExitError};

/// What a profile sets; each value is `None` when the profile does not set it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Profile {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Loads profile `name`; a profile in neither file is a usage error (exit 2).
pub(super) fn load(name: &str) -> Result<Profile> {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let file = |var: &str, default: &str| std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| home.join(".aws").join(default));
    let credentials = std::fs::read_to_string(file("AWS_SHARED_CREDENTIALS_FILE", "credentials")).unwrap_or_default();
    let config = std::fs::read_to_string(file("AWS_CONFIG_FILE", "config")).unwrap_or_default();
    let config_section = if name == "default" { "default".to_owned() } else { format!("profile {name}") };
    let mut found = false;
    let mut profile = Profile::default();
    // The credentials file wins over the config file for the same key.
    for (text, section) in [(&credentials, name.to_owned()), (&config, config_section)] {
        let Some(pairs) = section_of(text, &section) else { continue };
        found = true;
        for (key, value) in pairs {
            let slot = match key.as_str() {
                "aws_access_key_id" => &mut profile.access_key_id,
                "aws_secret_access_key" => &mut profile.secret_access_key,
                "aws_session_token" => &mut profile.session_token,
                "region" => &mut profile.region,
                "endpoint_url" => &mut profile.endpoint_url,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
    }
    if !found {
        return Err(ExitError::new(Exit::Usage, format!("AWS profile {name:?} is in neither ~/.aws/credentials nor ~/.aws/config")));
    }
    Ok(profile)
}

/// The `key = value` lines of section `[name]` of an INI text, if it has one.
fn section_of(text: &str, name: &str) -> Option<Vec<(String, String)>> {
    let mut current: Option<bool> = None;
    let mut pairs = Vec::new();
    let mut seen = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let here = header.trim() == name;
            seen |= here;
            current = Some(here);
        } else if current == Some(true)
            && let Some((k, v)) = line.split_once('=')
        {
            pairs.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    seen.then_some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_found_by_name() {
        let text = "[default]\naws_access_key_id = A\n\n[profile r2]\n# comment\nregion = auto\nendpoint_url=https://x.r2.example\n";
        assert_eq!(section_of(text, "default").unwrap(), vec![("aws_access_key_id".into(), "A".into())]);
        let r2 = section_of(text, "profile r2").unwrap();
        assert_eq!(r2[1], ("endpoint_url".into(), "https://x.r2.example".into()));
        assert_eq!(section_of(text, "profile other"), None);
    }
}
