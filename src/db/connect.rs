//! Connecting to PostgreSQL: the URL's `sslmode` honoured the way libpq does (with TLS
//! through native-tls: the platform's own stack, OpenSSL on Linux, SChannel on Windows,
//! Security.framework on macOS), and a bounded time for everything that touches the network.
//!
//! The `postgres` crate only knows `disable|prefer|require` and refuses the other libpq
//! parameters, so `sslmode=verify-ca|verify-full` and `sslrootcert` are taken out of the URL
//! here and turned into the TLS connector's verification settings.

use std::time::Duration;

use anyhow::{Context, Result};
use native_tls::{Certificate, TlsConnector};
use postgres_native_tls::MakeTlsConnector;

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
    /// The URL without `sslmode`/`sslrootcert`, with the `postgres` crate's sslmode set.
    pub url: String,
    pub sslmode: SslMode,
    pub sslrootcert: Option<String>,
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
        let mut sslrootcert = None;
        for pair in params {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
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
                "sslrootcert" if is_url => sslrootcert = Some(percent_decode(value)),
                "sslrootcert" => sslrootcert = Some(value.trim_matches('\'').to_owned()),
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
        Ok(Target { url, sslmode, sslrootcert })
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
                    let unreadable = |e: String| ExitError::new(Exit::Usage, format!("cannot read sslrootcert {path}: {e}"));
                    let pem = std::fs::read(&path).map_err(|e| unreadable(e.to_string()))?;
                    let certs = pem_certificates(&pem).map_err(unreadable)?;
                    for cert in certs {
                        builder.add_root_certificate(cert);
                    }
                    builder.disable_built_in_roots(true);
                }
                builder.danger_accept_invalid_hostnames(self.sslmode != SslMode::VerifyFull);
            }
        }
        Ok(MakeTlsConnector::new(builder.build().context("cannot set up TLS")?))
    }
}

/// libpq's default root certificate file, where it exists: `~/.postgresql/root.crt`, or
/// `%APPDATA%\postgresql\root.crt` on Windows.
fn default_root_cert() -> Option<String> {
    let path = if cfg!(windows) {
        std::path::Path::new(&std::env::var_os("APPDATA")?).join("postgresql").join("root.crt")
    } else {
        std::path::Path::new(&std::env::var_os("HOME")?).join(".postgresql").join("root.crt")
    };
    path.exists().then(|| path.to_string_lossy().into_owned())
}

/// Every certificate of a PEM file (a root file may hold a chain); native-tls reads one
/// at a time.
fn pem_certificates(pem: &[u8]) -> std::result::Result<Vec<Certificate>, String> {
    let text = std::str::from_utf8(pem).map_err(|_| "it is not a PEM file".to_owned())?;
    const END: &str = "-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end = rest[begin..].find(END).ok_or("a certificate has no END line")? + begin + END.len();
        certs.push(Certificate::from_pem(&rest.as_bytes()[begin..end]).map_err(|e| e.to_string())?);
        rest = &rest[end..];
    }
    if certs.is_empty() {
        return Err("it holds no PEM certificate".to_owned());
    }
    Ok(certs)
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
}
