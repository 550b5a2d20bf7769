//! Identifiers this backend makes.

use rand::RngCore;

/// A random id with a prefix: `ver_3f…` (80 random bits, hex).
pub fn new_id(prefix: &str) -> String {
    let mut b = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut b);
    format!("{prefix}_{}", hex::encode(b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_carry_their_prefix_and_differ() {
        let a = super::new_id("ver");
        let b = super::new_id("ver");
        assert!(a.starts_with("ver_") && a.len() == 4 + 20, "{a}");
        assert_ne!(a, b);
    }
}
