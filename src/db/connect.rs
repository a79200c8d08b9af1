//! Connecting to PostgreSQL: the URL's `sslmode` honoured the way libpq does (with TLS
//! through native-tls: the platform's own stack, OpenSSL on Linux, SChannel on Windows,
//! Security.framework on macOS), and a bounded time for everything that touches the network.
//!
//! The `postgres` crate only knows `disable|prefer|require` and refuses the other libpq
//! parameters, so `sslmode=verify-ca|verify-full`, `sslrootcert` and the client certificate
//! (`sslcert`, `sslkey`) are taken out of the URL here and turned into the TLS connector's
//! settings; `tls_files` reads the files.

use std::time::Duration;

use anyhow::Result;
use native_tls::TlsConnector;
use postgres_native_tls::MakeTlsConnector;

use super::tls_files;
use crate::exit::{Exit, ExitError};

/// How long establishing the connection (TCP, TLS, authentication) may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Any one statement: far above what a deploy needs, low enough that a stuck server is noticed.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(600);
/// Unacknowledged data on the socket for this long means the server is gone.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A database URL split into what the `postgres` crate parses and what seedc handles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The URL without the parameters below, with the `postgres` crate's sslmode set.
    pub url: String,
    pub sslmode: SslMode,
    pub sslrootcert: Option<String>,
    /// The client certificate chain and its key, as libpq's `sslcert` and `sslkey`.
    pub sslcert: Option<String>,
    pub sslkey: Option<String>,
}

impl Target {
    /// Accepts a URL (`postgres://...?sslmode=require`) or a key=value string
    /// (`host=h dbname=d sslmode=require`).
    pub(crate) fn parse(url: &str) -> Result<Target> {
        let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let (base, params): (&str, Vec<&str>) = if is_url {
            let (base, query) = url.split_once('?').unwrap_or((url, ""));
            (base, query.split('&').filter(|p| !p.is_empty()).collect())
        } else {
            ("", url.split_whitespace().collect())
        };
        let mut kept = Vec::new();
        let mut sslmode = SslMode::Prefer;
        let (mut sslrootcert, mut sslcert, mut sslkey) = (None, None, None);
        for pair in params {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let file = || if is_url { percent_decode(value) } else { value.trim_matches('\'').to_owned() };
            match key {
                "sslmode" => {
                    sslmode = match value {
                        "disable" => SslMode::Disable,
                        "allow" => SslMode::Allow,
                        "prefer" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => return Err(ExitError::new(Exit::Usage, format!("unknown sslmode {other:?} in the database url"))),
                    }
                }
                "sslrootcert" => sslrootcert = Some(file()),
                "sslcert" => sslcert = Some(file()),
                "sslkey" => sslkey = Some(file()),
                "sslpassword" => {
                    return Err(ExitError::new(
                        Exit::Usage,
                        "sslpassword in the database url: seedc reads only unencrypted keys (write one with `openssl pkey -in KEY -out NEW_KEY`)",
                    ));
                }
                _ => kept.push(pair),
            }
        }
        // `allow` tries plain first in libpq; `prefer` is the nearest the crate offers.
        kept.push(match sslmode {
            SslMode::Disable => "sslmode=disable",
            SslMode::Allow | SslMode::Prefer => "sslmode=prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "sslmode=require",
        });
        let url = if is_url { format!("{base}?{}", kept.join("&")) } else { kept.join(" ") };
        Ok(Target { url, sslmode, sslrootcert, sslcert, sslkey })
    }

    /// The client certificate and key files to present, as libpq chooses them: the URL's
    /// `sslcert` and `sslkey`, else `postgresql.crt` and `postgresql.key` in the user's
    /// PostgreSQL directory. An `sslcert` the URL names must exist (libpq would silently
    /// send none); the default one is used only where it exists, and then needs its key.
    fn client_files(&self) -> Option<(String, String)> {
        let dir = user_dir();
        let cert = self.sslcert.clone().or_else(|| {
            let path = dir.as_ref()?.join("postgresql.crt");
            path.exists().then(|| path.to_string_lossy().into_owned())
        })?;
        let key = self.sslkey.clone().unwrap_or_else(|| match &dir {
            Some(dir) => dir.join("postgresql.key").to_string_lossy().into_owned(),
            None => "postgresql.key".to_owned(),
        });
        Some((cert, key))
    }

    fn connector(&self) -> Result<MakeTlsConnector> {
        let mut builder = TlsConnector::builder();
        match self.sslmode {
            // Encryption without authentication, as libpq does without a root certificate.
            SslMode::Disable | SslMode::Allow | SslMode::Prefer | SslMode::Require => {
                builder.danger_accept_invalid_certs(true).danger_accept_invalid_hostnames(true);
            }
            SslMode::VerifyCa | SslMode::VerifyFull => {
                // As libpq: the root file named, else the user's default one if it exists,
                // else the system's trust store. A root file is the only trust: no built-in root.
                if let Some(path) = self.sslrootcert.clone().or_else(default_root_cert) {
                    for cert in tls_files::roots(&path)? {
                        builder.add_root_certificate(cert);
                    }
                    builder.disable_built_in_roots(true);
                }
                builder.danger_accept_invalid_hostnames(self.sslmode != SslMode::VerifyFull);
            }
        }
        // Without TLS nothing is presented, so nothing is read (libpq does the same).
        let client = if self.sslmode == SslMode::Disable { None } else { self.client_files() };
        if let Some((cert, key)) = &client {
            let key_is = if self.sslkey.is_some() { "sslkey" } else { "sslkey (libpq's default, as the url names none)" };
            builder.identity(tls_files::identity(cert, key, key_is)?);
        }
        let connector = builder.build().map_err(|e| match &client {
            // OpenSSL finds a key of another certificate here ("key values mismatch").
            Some((cert, key)) => {
                ExitError::new(Exit::Usage, format!("sslkey {key}: cannot be used with the certificate of sslcert {cert}: {e}"))
            }
            None => anyhow::Error::new(e).context("cannot set up TLS"),
        })?;
        Ok(MakeTlsConnector::new(connector))
    }
}

/// libpq's directory of the user's TLS files: `~/.postgresql`, or `%APPDATA%\postgresql`
/// on Windows.
fn user_dir() -> Option<std::path::PathBuf> {
    if cfg!(windows) {
        Some(std::path::Path::new(&std::env::var_os("APPDATA")?).join("postgresql"))
    } else {
        Some(std::path::Path::new(&std::env::var_os("HOME")?).join(".postgresql"))
    }
}

/// libpq's default root certificate file, where it exists.
fn default_root_cert() -> Option<String> {
    let path = user_dir()?.join("root.crt");
    path.exists().then(|| path.to_string_lossy().into_owned())
}

/// Opens a connection with every timeout set. Failure is a service error (exit 3).
/// `watchdog` bounds the whole handshake: the crate's own timeout covers only the TCP connect.
pub(crate) fn connect(url: &str, application_name: &str, watchdog: &super::watchdog::Watchdog) -> Result<postgres::Client> {
    let target = Target::parse(url)?;
    let mut config: postgres::Config = target.url.parse().map_err(|e| ExitError::new(Exit::Usage, format!("invalid database url: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    // The URL's own `options` come last, so a user's statement_timeout wins.
    let options = format!("-c statement_timeout={} {}", STATEMENT_TIMEOUT.as_millis(), config.get_options().unwrap_or_default());
    config
        .tcp_user_timeout(TCP_USER_TIMEOUT)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(15))
        .application_name(application_name)
        .options(options.trim_end());
    let connector = target.connector()?;
    watchdog.arm("connecting", config.get_connect_timeout().copied().unwrap_or(CONNECT_TIMEOUT));
    config
        .connect(connector)
        .map_err(|e| ExitError::new(Exit::Service, format!("cannot connect to the database: {}", super::error_text(&e))))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_ssl_parameters_are_taken_out() {
        let t = Target::parse("postgres://u@h:5/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.crt&connect_timeout=3").unwrap();
        assert_eq!(t.sslmode, SslMode::VerifyFull);
        assert_eq!(t.sslrootcert.as_deref(), Some("/tmp/ca.crt"));
        assert_eq!(t.url, "postgres://u@h:5/db?connect_timeout=3&sslmode=require");
        let plain = Target::parse("postgres://u@h/db").unwrap();
        assert_eq!((plain.sslmode, plain.url.as_str()), (SslMode::Prefer, "postgres://u@h/db?sslmode=prefer"));
        assert!(Target::parse("postgres://h/db?sslmode=sometimes").is_err());
        let kv = Target::parse("host=h dbname=d sslmode=verify-ca sslrootcert=/ca.crt").unwrap();
        assert_eq!(
            (kv.url.as_str(), kv.sslmode, kv.sslrootcert.as_deref()),
            ("host=h dbname=d sslmode=require", SslMode::VerifyCa, Some("/ca.crt"))
        );
    }

    #[test]
    fn client_certificate_parameters_are_taken_out() {
        let t = Target::parse("postgres://u@h/db?sslcert=%2Fc%20d%2Fme.crt&sslkey=/k/me.key&sslmode=require").unwrap();
        assert_eq!((t.sslcert.as_deref(), t.sslkey.as_deref()), (Some("/c d/me.crt"), Some("/k/me.key")));
        assert_eq!(t.url, "postgres://u@h/db?sslmode=require");
        assert_eq!(t.client_files(), Some(("/c d/me.crt".to_owned(), "/k/me.key".to_owned())));
        let kv = Target::parse("host=h sslcert='/me.crt' sslkey='/me.key'").unwrap();
        assert_eq!(
            (kv.sslcert.as_deref(), kv.sslkey.as_deref(), kv.url.as_str()),
            (Some("/me.crt"), Some("/me.key"), "host=h sslmode=prefer")
        );
        let err = Target::parse("postgres://u@h/db?sslkey=/k&sslpassword=secret").unwrap_err();
        assert!(err.to_string().contains("unencrypted") && !err.to_string().contains("secret"), "{err}");
    }
}
