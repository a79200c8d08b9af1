//! The S3 client's request signing (SigV4: SHA-256 and HMAC-SHA-256) on the RustCrypto
//! hashes seedc already uses, so object_store brings no crypto library of its own (its
//! default is aws-lc-rs, which needs cmake and a C toolchain for every target) and TLS
//! stays native-tls, as for PostgreSQL and Redis.

use hmac::{KeyInit, Mac};
use object_store::client::{CryptoProvider, DigestAlgorithm, DigestContext, HmacContext, Signer, SigningAlgorithm};
use sha2::{Digest, Sha256};

#[derive(Debug)]
pub(super) struct RustCrypto;

fn unsupported(what: String) -> object_store::Error {
    object_store::Error::NotSupported { source: what.into() }
}

impl CryptoProvider for RustCrypto {
    fn digest(&self, algorithm: DigestAlgorithm) -> object_store::Result<Box<dyn DigestContext>> {
        match algorithm {
            DigestAlgorithm::Sha256 => Ok(Box::new(Sha256Context { hasher: Sha256::new(), out: Vec::new() })),
            other => Err(unsupported(format!("digest {other:?}"))),
        }
    }

    fn hmac(&self, algorithm: DigestAlgorithm, secret: &[u8]) -> object_store::Result<Box<dyn HmacContext>> {
        match algorithm {
            DigestAlgorithm::Sha256 => {
                let mac = hmac::Hmac::<Sha256>::new_from_slice(secret).map_err(|e| unsupported(format!("hmac key: {e}")))?;
                Ok(Box::new(HmacSha256 { mac, out: Vec::new() }))
            }
            other => Err(unsupported(format!("hmac {other:?}"))),
        }
    }

    /// RSA signing is for GCP service accounts only; seedc speaks S3.
    fn sign(&self, algorithm: SigningAlgorithm, _pem: &[u8]) -> object_store::Result<Box<dyn Signer>> {
        Err(unsupported(format!("signing with {algorithm:?}")))
    }
}

struct Sha256Context {
    hasher: Sha256,
    out: Vec<u8>,
}

impl DigestContext for Sha256Context {
    fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    fn finish(&mut self) -> object_store::Result<&[u8]> {
        self.out = std::mem::take(&mut self.hasher).finalize().to_vec();
        Ok(&self.out)
    }
}

struct HmacSha256 {
    mac: hmac::Hmac<Sha256>,
    out: Vec<u8>,
}

impl HmacContext for HmacSha256 {
    fn update(&mut self, data: &[u8]) {
        self.mac.update(data);
    }

    fn finish(&mut self) -> object_store::Result<&[u8]> {
        self.out = self.mac.clone().finalize().into_bytes().to_vec();
        Ok(&self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2, and SHA-256 of "abc" (FIPS 180-2).
    #[test]
    fn known_vectors() {
        let mut h = RustCrypto.hmac(DigestAlgorithm::Sha256, b"Jefe").unwrap();
        h.update(b"what do ya want ");
        h.update(b"for nothing?");
        assert_eq!(hex::encode(h.finish().unwrap()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let mut d = RustCrypto.digest(DigestAlgorithm::Sha256).unwrap();
        d.update(b"abc");
        assert_eq!(hex::encode(d.finish().unwrap()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
