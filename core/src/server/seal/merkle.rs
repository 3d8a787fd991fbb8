//! The Merkle tree hash of RFC 9162 §2.1.1, as a seal's `root`:
//! leaf = SHA-256(0x00 ‖ line), node = SHA-256(0x01 ‖ left ‖ right), the
//! leaves split at the largest power of two smaller than their number.
//!
//! `TreeBuilder` takes the leaves as they stream past and keeps one hash per
//! complete subtree (at most 64), so an import never holds a seal's lines.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// The hash of one leaf: a covered line's exact bytes, without its terminator.
pub fn leaf_hash(line: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(line)
        .finalize()
        .into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The root of leaves pushed one at a time.
#[derive(Debug, Clone, Default)]
pub struct TreeBuilder {
    /// Complete subtrees, left to right, with strictly falling sizes.
    subtrees: Vec<(u64, Hash)>,
    leaves: u64,
}

impl TreeBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, leaf: Hash) {
        let (mut size, mut hash) = (1u64, leaf);
        while let Some(&(left_size, left)) = self.subtrees.last() {
            if left_size != size {
                break;
            }
            self.subtrees.pop();
            hash = node_hash(&left, &hash);
            size *= 2;
        }
        self.subtrees.push((size, hash));
        self.leaves += 1;
    }

    pub fn len(&self) -> u64 {
        self.leaves
    }

    pub fn is_empty(&self) -> bool {
        self.leaves == 0
    }

    /// The tree hash of the leaves so far; `None` for no leaves (a seal
    /// always covers at least one line).
    ///
    /// Folding the complete subtrees from the right is the RFC's recursive
    /// split: the left part of every split is the largest complete subtree.
    pub fn root(&self) -> Option<Hash> {
        let mut subtrees = self.subtrees.iter().rev();
        let mut hash = subtrees.next()?.1;
        for (_, left) in subtrees {
            hash = node_hash(left, &hash);
        }
        Some(hash)
    }
}

/// The RFC's definition, written as it reads: for tests and for verifiers
/// that have every leaf at hand.
pub fn root_of(leaves: &[Hash]) -> Option<Hash> {
    match leaves.len() {
        0 => None,
        1 => Some(leaves[0]),
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            Some(node_hash(&root_of(&leaves[..k])?, &root_of(&leaves[k..])?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("line {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn streaming_root_is_the_rfc_root_for_every_size() {
        for n in 1..=130 {
            let all = leaves(n);
            let mut tree = TreeBuilder::new();
            all.iter().for_each(|l| tree.push(*l));
            assert_eq!(tree.len(), n as u64);
            assert_eq!(tree.root(), root_of(&all), "{n} leaves");
        }
        assert_eq!(TreeBuilder::new().root(), None);
    }

    /// RFC 9162's hashes, checked by hand for three leaves: the split is
    /// after two, and leaves and nodes carry different prefixes.
    #[test]
    fn three_leaves_split_after_two() {
        let [a, b, c] = [b"a".as_slice(), b"b", b"c"].map(leaf_hash);
        let mut tree = TreeBuilder::new();
        [a, b, c].iter().for_each(|l| tree.push(*l));
        assert_eq!(tree.root(), Some(node_hash(&node_hash(&a, &b), &c)));
        assert_ne!(leaf_hash(b""), node_hash(&[0; 32], &[0; 32]));
        // SHA-256 of the single byte 0x00: the empty line's leaf.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}
