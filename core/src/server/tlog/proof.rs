//! Inclusion and consistency proofs of RFC 9162 §2.1.3 and §2.1.4, made from
//! the hashes of a tree's complete subtrees and checked with nothing but the
//! proof, the leaf (or the older root) and the root.
//!
//! A proof is made by the RFC's recursion (`PATH`, `SUBPROOF`). Every left
//! part of a split is a complete subtree; a right part is a range `[start,
//! end)` whose hash folds the complete subtrees it is made of, so a store
//! that keeps one hash per complete subtree answers any proof with O(log n)
//! reads ([`Subtrees`]).

use crate::server::seal::{node_hash, Hash};

/// The hash of the complete subtree `index` at `level`: leaves
/// `[index·2^level, (index+1)·2^level)`.
pub trait Subtrees {
    type Error;
    fn complete(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// The largest power of two smaller than `n` (n ≥ 2): where the RFC splits.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The tree hash of leaves `[start, end)`, `start` a multiple of a power of
/// two at least `end − start` (as every range the recursion visits is): the
/// complete subtrees it is made of, folded from the right.
pub fn range_hash<S: Subtrees>(tree: &mut S, start: u64, end: u64) -> Result<Hash, S::Error> {
    let mut parts = Vec::new();
    let mut at = start;
    while at < end {
        let level = 63 - (end - at).leading_zeros();
        parts.push(tree.complete(level, at >> level)?);
        at += 1 << level;
    }
    let mut parts = parts.into_iter().rev();
    let mut hash = parts.next().expect("a range of at least one leaf");
    for left in parts {
        hash = node_hash(&left, &hash);
    }
    Ok(hash)
}

/// `PATH(index, D[0:size])`: the hashes from the leaf's sibling up to the
/// root's child, `index < size`.
pub fn inclusion<S: Subtrees>(tree: &mut S, index: u64, size: u64) -> Result<Vec<Hash>, S::Error> {
    let mut proof = Vec::new();
    path(tree, index, 0, size, &mut proof)?;
    Ok(proof)
}

fn path<S: Subtrees>(
    tree: &mut S,
    index: u64,
    start: u64,
    end: u64,
    proof: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if index - start < k {
        path(tree, index, start, start + k, proof)?;
        proof.push(range_hash(tree, start + k, end)?);
    } else {
        path(tree, index, start + k, end, proof)?;
        proof.push(range_hash(tree, start, start + k)?);
    }
    Ok(())
}

/// `PROOF(old, D[0:new])`: what shows the tree of `old` leaves is the first
/// part of the tree of `new` leaves, `0 < old ≤ new` (empty when equal).
pub fn consistency<S: Subtrees>(tree: &mut S, old: u64, new: u64) -> Result<Vec<Hash>, S::Error> {
    let mut proof = Vec::new();
    if 0 < old && old < new {
        subproof(tree, old, 0, new, true, &mut proof)?;
    }
    Ok(proof)
}

fn subproof<S: Subtrees>(
    tree: &mut S,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    proof: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if m == n {
        if !whole {
            proof.push(range_hash(tree, start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(tree, m, start, start + k, whole, proof)?;
        proof.push(range_hash(tree, start + k, end)?);
    } else {
        subproof(tree, m - k, start + k, end, false, proof)?;
        proof.push(range_hash(tree, start, start + k)?);
    }
    Ok(())
}

/// Why a proof does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf {index} is not in a tree of {size} leaves")]
    OutOfRange { index: u64, size: u64 },
    #[error("the proof has {0} hashes, not the number this tree needs")]
    WrongLength(usize),
    #[error("the proof does not lead to the root")]
    RootMismatch,
    #[error("the proof does not lead to the older root")]
    OldRootMismatch,
    #[error("a tree of {new} leaves cannot extend one of {old}")]
    Shrunk { old: u64, new: u64 },
}

/// RFC 9162 §2.1.3.2: does `proof` place `leaf` at `index` in the tree of
/// `size` leaves with `root`?
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    let (mut fnode, mut snode, mut r) = (index, size - 1, *leaf);
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength(proof.len()));
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength(proof.len()));
    }
    if &r != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: does `proof` show the tree of `old` leaves with
/// `old_root` is the start of the tree of `new` leaves with `new_root`?
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::Shrunk { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength(proof.len()));
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if old == 0 {
        // Every tree extends the empty one.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength(proof.len()))
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength(proof.len()));
    };
    let (mut fnode, mut snode) = (old - 1, new - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return Err(ProofError::WrongLength(proof.len()));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength(proof.len()));
    }
    if &fr != old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if &sr != new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::seal::leaf_hash;
    use crate::server::seal::merkle::root_of;
    use std::convert::Infallible;

    /// Complete subtrees computed from the leaves, as the RFC defines them.
    struct Leaves(Vec<Hash>);

    impl Subtrees for Leaves {
        type Error = Infallible;
        fn complete(&mut self, level: u32, index: u64) -> Result<Hash, Infallible> {
            let start = (index << level) as usize;
            Ok(root_of(&self.0[start..start + (1 << level)]).unwrap())
        }
    }

    fn leaves(n: u64) -> Leaves {
        Leaves(
            (0..n)
                .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
                .collect(),
        )
    }

    #[test]
    fn every_leaf_of_every_small_tree_proves_included_and_nothing_else_does() {
        for size in 1..=33u64 {
            let mut tree = leaves(size);
            let root = root_of(&tree.0).unwrap();
            assert_eq!(range_hash(&mut tree, 0, size).unwrap(), root, "{size}");
            for index in 0..size {
                let proof = inclusion(&mut tree, index, size).unwrap();
                let leaf = tree.0[index as usize];
                verify_inclusion(&leaf, index, size, &proof, &root)
                    .unwrap_or_else(|e| panic!("{index} of {size}: {e}"));
                // Another leaf, another place, a flipped hash: all fail.
                let other = leaf_hash(b"not in the log");
                assert!(verify_inclusion(&other, index, size, &proof, &root).is_err());
                if size > 1 {
                    let elsewhere = (index + 1) % size;
                    assert!(verify_inclusion(&leaf, elsewhere, size, &proof, &root).is_err());
                    let mut bad = proof.clone();
                    bad[0][0] ^= 1;
                    assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
                }
                assert!(verify_inclusion(&leaf, size, size, &proof, &root).is_err());
            }
        }
    }

    #[test]
    fn every_older_tree_proves_consistent_with_every_newer_one() {
        let mut all = leaves(40);
        for new in 1..=40u64 {
            let new_root = root_of(&all.0[..new as usize]).unwrap();
            for old in 1..=new {
                let old_root = root_of(&all.0[..old as usize]).unwrap();
                let proof = consistency(&mut all, old, new).unwrap();
                verify_consistency(old, new, &old_root, &new_root, &proof)
                    .unwrap_or_else(|e| panic!("{old} → {new}: {e}"));
                if old < new {
                    // A rewritten history: the old root of other leaves.
                    let forged =
                        root_of(&leaves(old).0.iter().rev().copied().collect::<Vec<_>>()).unwrap();
                    if forged != old_root {
                        assert!(verify_consistency(old, new, &forged, &new_root, &proof).is_err());
                    }
                    for i in 0..proof.len() {
                        let mut bad = proof.clone();
                        bad[i][31] ^= 0x80;
                        assert!(
                            verify_consistency(old, new, &old_root, &new_root, &bad).is_err(),
                            "{old} → {new}, hash {i} flipped"
                        );
                    }
                    assert!(verify_consistency(new, old, &new_root, &old_root, &proof).is_err());
                }
            }
        }
    }

    /// Sizes of proofs grow with the logarithm: a tree of 2^20 leaves needs 20.
    #[test]
    fn proof_lengths_are_logarithmic() {
        struct Zero;
        impl Subtrees for Zero {
            type Error = Infallible;
            fn complete(&mut self, _: u32, _: u64) -> Result<Hash, Infallible> {
                Ok([0; 32])
            }
        }
        assert_eq!(inclusion(&mut Zero, 12_345, 1 << 20).unwrap().len(), 20);
        assert_eq!(inclusion(&mut Zero, 0, 10_000_000).unwrap().len(), 24);
        assert!(consistency(&mut Zero, 9_999_999, 10_000_000).unwrap().len() <= 2 * 24);
    }
}
