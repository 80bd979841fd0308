//! Verifies `X-Hub-Signature-256` on the raw body, in constant time, against every configured
//! secret (several, for rotation). Pure.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `header` (`sha256=<hex>`) is a valid signature of `body` under any of `secrets`.
pub fn verify(secrets: &[Vec<u8>], header: Option<&str>, body: &[u8]) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    secrets.iter().any(|secret| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

/// `sha256=<hex>` for `body` under `secret` (for tests and tools that send deliveries).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_test_vector() {
        let secret = b"It's a Secret to Everybody".to_vec();
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(&secret, b"Hello, World!"), header);
        assert!(verify(
            &[b"old".to_vec(), secret.clone()],
            Some(header),
            b"Hello, World!"
        ));
        assert!(!verify(std::slice::from_ref(&secret), Some(header), b"Hello, World?"));
        assert!(!verify(std::slice::from_ref(&secret), None, b"Hello, World!"));
        assert!(!verify(
            &[secret],
            Some("sha1=757107ea0eb2509fc211221cce984b8a37570b6d"),
            b"Hello, World!"
        ));
    }
}
