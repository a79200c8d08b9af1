//! The files of a PostgreSQL TLS connection, read as libpq reads them: the root
//! certificates (`sslrootcert`), the client's certificate chain (`sslcert`) and its private
//! key (`sslkey`), all PEM.
//!
//! native-tls builds a client identity only from a PEM chain and an unencrypted PKCS#8 key
//! (`BEGIN PRIVATE KEY`) on all three platforms. A PKCS#1 RSA key (`BEGIN RSA PRIVATE KEY`,
//! what OpenSSL 1.x's `genrsa` and many guides write) is the same key in another wrapper,
//! so it is rewrapped as PKCS#8 here. Encrypted keys (seedc never asks for a passphrase)
//! and SEC1 EC keys (`BEGIN EC PRIVATE KEY`) are refused with the `openssl` command that
//! converts them. Every failure names the file and is a usage error (exit 2): a file that
//! cannot be used is a mistake in the URL, not a failed service.

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use native_tls::{Certificate, Identity};

use crate::exit::{Exit, ExitError};
use crate::project::tree::ReadError;

/// A PEM file of certificates or one key is a few KiB; anything larger is not one.
const PEM_LIMIT: u64 = 1 << 20;

/// One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, ...), whether it had RFC 1421
/// headers (`Proc-Type: 4,ENCRYPTED`), and its decoded bytes.
struct Block {
    label: String,
    headers: String,
    der: Vec<u8>,
}

/// The error of the file `what` (`sslcert`, ...) at `path`: exit 2, naming both.
fn bad(what: &str, path: &str, why: impl std::fmt::Display) -> anyhow::Error {
    ExitError::new(Exit::Usage, format!("{what} {path}: {why}"))
}

/// Reads a regular file, bounded; a FIFO or a device is refused without blocking.
pub(crate) fn read(what: &str, path: &str) -> Result<Vec<u8>> {
    crate::project::tree::read_regular_file(std::path::Path::new(path), PEM_LIMIT).map_err(|e| match e {
        e if e.is_not_regular() => bad(what, path, "is not a regular file"),
        ReadError::TooLarge { .. } => bad(what, path, "is larger than 1 MiB, so it is no PEM file"),
        e => bad(what, path, format!("cannot be read: {e}")),
    })
}

/// Every PEM block of `bytes`, in order; text around and between them is ignored, as
/// OpenSSL ignores it (`Bag Attributes` lines written by `openssl pkcs12`).
fn blocks(bytes: &[u8]) -> std::result::Result<Vec<Block>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not a PEM file (not text; DER files are not read)".to_owned())?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after = &rest[begin + "-----BEGIN ".len()..];
        let (label, after) = after.split_once("-----").ok_or("a BEGIN line is not closed")?;
        let end = format!("-----END {label}-----");
        let (body, after) = after.split_once(&end).ok_or_else(|| format!("the {label} block has no END line"))?;
        let (headers, body) = match body.find("\n\n").or_else(|| body.find("\r\n\r\n")) {
            Some(gap) if body[..gap].contains(':') => (body[..gap].trim().to_owned(), &body[gap..]),
            _ => (String::new(), body),
        };
        let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = STANDARD.decode(base64).map_err(|e| format!("the {label} block is not valid base64: {e}"))?;
        out.push(Block { label: label.to_owned(), headers, der });
        rest = after;
    }
    Ok(out)
}

/// The certificates of a PEM file (a root file or a client's chain), at least one.
fn certificates(bytes: &[u8]) -> std::result::Result<Vec<(Certificate, Vec<u8>)>, String> {
    let mut certs = Vec::new();
    for block in blocks(bytes)?.into_iter().filter(|b| b.label == "CERTIFICATE") {
        let cert = Certificate::from_der(&block.der).map_err(|e| format!("a certificate cannot be read: {e}"))?;
        certs.push((cert, block.der));
    }
    if certs.is_empty() {
        return Err("it holds no PEM certificate".to_owned());
    }
    Ok(certs)
}

/// The root certificates of the file `sslrootcert` names.
pub(crate) fn roots(path: &str) -> Result<Vec<Certificate>> {
    let bytes = read("sslrootcert", path)?;
    let certs = certificates(&bytes).map_err(|e| bad("sslrootcert", path, e))?;
    Ok(certs.into_iter().map(|(cert, _)| cert).collect())
}

/// The client identity of `sslcert` and `sslkey`; `key_is` says how the key was chosen.
pub(crate) fn identity(cert_path: &str, key_path: &str, key_is: &str) -> Result<Identity> {
    let chain = certificates(&read("sslcert", cert_path)?).map_err(|e| bad("sslcert", cert_path, e))?;
    let key_bytes = read(key_is, key_path)?;
    key_permissions(key_is, key_path)?;
    let key = pkcs8(&key_bytes).map_err(|e| bad(key_is, key_path, e))?;
    let chain_pem: String = chain.iter().map(|(_, der)| pem("CERTIFICATE", der)).collect();
    Identity::from_pkcs8(chain_pem.as_bytes(), pem("PRIVATE KEY", &key).as_bytes())
        .map_err(|e| bad(key_is, key_path, format!("cannot be used with the certificate of sslcert {cert_path}: {e}")))
}

/// The key of a key file as PKCS#8 DER (the first private key block; EC files carry an
/// `EC PARAMETERS` block before theirs).
fn pkcs8(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let blocks = blocks(bytes)?;
    let Some(block) = blocks.into_iter().find(|b| b.label.ends_with("PRIVATE KEY")) else {
        return Err("it holds no PEM private key".to_owned());
    };
    const DECRYPT: &str = "it is encrypted, and seedc asks for no passphrase: write it unencrypted with `openssl pkey -in KEY -out NEW_KEY` (and keep NEW_KEY 0600)";
    match block.label.as_str() {
        "PRIVATE KEY" => Ok(block.der),
        "RSA PRIVATE KEY" if block.headers.contains("ENCRYPTED") => Err(DECRYPT.to_owned()),
        "RSA PRIVATE KEY" => Ok(pkcs8_of_rsa(&block.der)),
        "ENCRYPTED PRIVATE KEY" => Err(DECRYPT.to_owned()),
        "EC PRIVATE KEY" => Err("it is an EC key in SEC1 form (`BEGIN EC PRIVATE KEY`), which seedc does not read: \
                                 convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out NEW_KEY`"
            .to_owned()),
        other => Err(format!(
            "its key is of a kind seedc does not read ({other}); seedc reads `BEGIN PRIVATE KEY` (PKCS#8) and `BEGIN RSA PRIVATE KEY` (PKCS#1)"
        )),
    }
}

/// A PKCS#1 `RSAPrivateKey` wrapped as a PKCS#8 `PrivateKeyInfo` (RFC 5208): version 0,
/// the rsaEncryption algorithm with NULL parameters, the PKCS#1 bytes as an OCTET STRING.
fn pkcs8_of_rsa(pkcs1: &[u8]) -> Vec<u8> {
    const RSA_ALGORITHM: [u8; 15] = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(&RSA_ALGORITHM);
    der_tlv(0x04, pkcs1, &mut body);
    let mut out = Vec::with_capacity(body.len() + 4);
    der_tlv(0x30, &body, &mut out);
    out
}

/// A DER tag, its definite length and its contents.
fn der_tlv(tag: u8, contents: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
}

/// `der` as a PEM block of `label`, 64 characters a line.
fn pem(label: &str, der: &[u8]) -> String {
    let text = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// libpq's rule for a key file on Unix: no access for others, and for the group at most
/// read when root owns it (0600, or 0640 owned by root). Windows has no such bits.
#[cfg(unix)]
fn key_permissions(what: &str, path: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path).map_err(|e| bad(what, path, format!("cannot be read: {e}")))?;
    let mode = meta.mode() & 0o777;
    let allowed = if meta.uid() == 0 { 0o740 } else { 0o700 };
    if mode & !allowed != 0 {
        return Err(bad(
            what,
            path,
            format!(
                "has group or world access (mode {mode:04o}); make it u=rw (0600), or u=rw,g=r (0640) if root owns it, as libpq requires"
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn key_permissions(_: &str, _: &str) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pkcs1_key_is_wrapped_as_pkcs8() {
        // Not a real key: the wrapper is the same whatever the bytes inside.
        let inner = vec![0x30, 0x03, 0x02, 0x01, 0x07];
        assert_eq!(
            pkcs8_of_rsa(&inner),
            [
                &[0x30, 0x19, 0x02, 0x01, 0x00][..],
                &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00],
                &[0x04, 0x05],
                &inner
            ]
            .concat()
        );
        // A 2048-bit key's PKCS#1 form is over 255 bytes: two length bytes.
        let long = vec![0u8; 1190];
        let wrapped = pkcs8_of_rsa(&long);
        assert_eq!(&wrapped[..4], &[0x30, 0x82, 0x04, 0xbc]);
        assert_eq!(&wrapped[22..26], &[0x04, 0x82, 0x04, 0xa6]);
        assert_eq!(wrapped.len(), 4 + 0x4bc);
    }

    #[test]
    fn key_files_are_read_as_libpq_reads_them_or_refused_naming_the_remedy() {
        let block =
            |label: &str, headers: &str| format!("junk before\n-----BEGIN {label}-----\n{headers}AQID\nBA==\n-----END {label}-----\n");
        assert_eq!(pkcs8(block("PRIVATE KEY", "").as_bytes()).unwrap(), [1, 2, 3, 4]);
        assert_eq!(pkcs8(block("RSA PRIVATE KEY", "").as_bytes()).unwrap(), pkcs8_of_rsa(&[1, 2, 3, 4]));
        let encrypted = block("RSA PRIVATE KEY", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n");
        assert!(pkcs8(encrypted.as_bytes()).unwrap_err().contains("encrypted"));
        assert!(pkcs8(block("ENCRYPTED PRIVATE KEY", "").as_bytes()).unwrap_err().contains("openssl pkey"));
        let ec = format!("{}{}", block("EC PARAMETERS", ""), block("EC PRIVATE KEY", ""));
        assert!(pkcs8(ec.as_bytes()).unwrap_err().contains("openssl pkcs8 -topk8"));
        assert!(pkcs8(block("CERTIFICATE", "").as_bytes()).unwrap_err().contains("no PEM private key"));
        assert!(pkcs8(&[0x30, 0x82, 0xff, 0xfe]).unwrap_err().contains("not a PEM file"));
        assert!(pkcs8(b"-----BEGIN PRIVATE KEY-----\nAQID\n").unwrap_err().contains("no END line"));
        assert!(pkcs8(b"-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----").unwrap_err().contains("base64"));
    }

    #[test]
    fn pem_round_trips_in_lines_of_64() {
        let der: Vec<u8> = (0..=255).collect();
        let text = pem("CERTIFICATE", &der);
        assert!(text.lines().all(|l| l.len() <= 64));
        let back = blocks(text.as_bytes()).unwrap();
        assert_eq!((back.len(), back[0].label.as_str(), &back[0].der), (1, "CERTIFICATE", &der));
    }
}
