//! The bytes of a ContentVersion in the fake org: held (small files, uploads) or generated
//! on read from a seed (the large seeded files), so a 500 MB document costs the fake org
//! sixteen bytes until someone reads it, and a read of any range costs only that range.

use std::sync::Arc;

/// A file's bytes, cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blob {
    Held(Arc<[u8]>),
    /// `len` bytes, each a function of `seed` and its offset (see [`Blob::fill`]).
    Generated {
        seed: u64,
        len: u64,
    },
}

impl Blob {
    pub fn held(bytes: Vec<u8>) -> Blob {
        Blob::Held(bytes.into())
    }

    pub fn len(&self) -> u64 {
        match self {
            Blob::Held(bytes) => bytes.len() as u64,
            Blob::Generated { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the bytes from `offset` into `out` (as many as fit and exist); returns how
    /// many were copied.
    pub fn fill(&self, offset: u64, out: &mut [u8]) -> usize {
        let len = self.len();
        if offset >= len {
            return 0;
        }
        let n = out.len().min((len - offset) as usize);
        match self {
            Blob::Held(bytes) => out[..n].copy_from_slice(&bytes[offset as usize..][..n]),
            Blob::Generated { seed, .. } => {
                for (i, byte) in out[..n].iter_mut().enumerate() {
                    let at = offset + i as u64;
                    // One 64-bit word per 8 bytes: the byte is its (at % 8)-th byte.
                    *byte = (word(*seed, at / 8) >> ((at % 8) * 8)) as u8;
                }
            }
        }
        n
    }

    /// All the bytes, materialised (tests and small files only).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![0; self.len() as usize];
        self.fill(0, &mut out);
        out
    }
}

/// splitmix64 of the word's index under the seed: well mixed, and any word is computed
/// without the ones before it, which is what serving a range needs.
fn word(seed: u64, index: u64) -> u64 {
    let mut z = seed
        .wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_range_equals_the_same_range_of_the_whole() {
        let blob = Blob::Generated { seed: 9, len: 1000 };
        let whole = blob.to_vec();
        assert_eq!(whole.len(), 1000);
        let mut part = [0u8; 37];
        assert_eq!(blob.fill(501, &mut part), 37);
        assert_eq!(&part[..], &whole[501..538]);
        let mut tail = [0u8; 64];
        assert_eq!(blob.fill(990, &mut tail), 10);
        assert_eq!(&tail[..10], &whole[990..]);
        assert_ne!(
            whole,
            Blob::Generated {
                seed: 10,
                len: 1000
            }
            .to_vec()
        );
    }
}
