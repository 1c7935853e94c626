//! A compact key sixteen bytes at a time: ASCII letters lowercased, digits kept, every other
//! ASCII byte dropped, as [`super::ASCII`] says byte by byte, and Han and Hangul characters
//! kept whole, as the byte loop's own shortcut does (Chinese and Korean text alternates
//! characters and spaces: a branch per character there mispredicts at every word). The bytes
//! kept are moved to the front of the block with one shuffle (SSSE3) chosen by the mask of
//! kept bytes. A block stops before any other character, which the caller folds. With
//! AVX-512 (VBMI, VBMI2) blocks are sixty-four bytes, packed by one compress, and fold the
//! two-byte Latin letters in place too (see [`LATIN`]). On other CPUs nothing is done here
//! and the byte loop does it all.

/// The compact form of each two-byte character U+0080-U+017F (Latin-1 and Latin Extended-A:
/// the letters of Polish and Portuguese), by `(first byte - 0xc2) << 6 | second byte & 0x3f`,
/// as a block of sixty-four folds it in place: its one ASCII letter or digit, [`DROP`] when it
/// has none, 0 when it is longer or the character is U+009B (an escape) and the block stops
/// there. Filled from the normalizer by [`super::prepare_latin`] before a triage; until then
/// blocks stop at every such character, as the narrower ones do.
pub static LATIN: std::sync::OnceLock<[u8; 256]> = std::sync::OnceLock::new();
/// In [`LATIN`]: the character has no compact form.
pub const DROP: u8 = 1;

/// Whether the CPU can pack blocks, decided once per [`super::Folder`].
#[derive(Clone, Copy)]
pub struct Packer {
    #[cfg(target_arch = "x86_64")]
    ssse3: bool,
    /// Sixty-four bytes at a time, kept bytes moved to the front by one `vpcompressb`
    /// (AVX-512 VBMI and VBMI2; see [`x86::run64`]).
    #[cfg(target_arch = "x86_64")]
    avx512: bool,
}

impl Packer {
    pub fn detect() -> Packer {
        Packer {
            #[cfg(target_arch = "x86_64")]
            ssse3: std::arch::is_x86_feature_detected!("ssse3")
                && std::arch::is_x86_feature_detected!("popcnt"),
            #[cfg(target_arch = "x86_64")]
            avx512: std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vbmi")
                && std::arch::is_x86_feature_detected!("avx512vbmi2")
                && std::arch::is_x86_feature_detected!("popcnt"),
        }
    }

    /// Whether [`x86::run64`] may be called.
    #[cfg(target_arch = "x86_64")]
    pub fn avx512(&self) -> bool {
        self.avx512
    }

    /// A packer that uses SSSE3 at most, whatever the CPU (to test one width against the
    /// other).
    #[cfg(test)]
    pub fn narrow() -> Packer {
        Packer {
            #[cfg(target_arch = "x86_64")]
            avx512: false,
            ..Packer::detect()
        }
    }

    /// Whether [`x86::run`] may be called.
    #[cfg(target_arch = "x86_64")]
    pub fn ssse3(&self) -> bool {
        self.ssse3
    }

    /// A packer that leaves everything to the byte loop (to test that loop on any CPU).
    #[cfg(test)]
    pub fn scalar() -> Packer {
        Packer {
            #[cfg(target_arch = "x86_64")]
            ssse3: false,
            #[cfg(target_arch = "x86_64")]
            avx512: false,
        }
    }

    /// Packs `src[i..]` into `dst[j..]` block by block, up to the first character that is
    /// neither ASCII nor Han or Hangul, or the last block of sixteen (with a byte after it).
    /// `i` is on a character boundary. Returns the new `(i, j)`; `i` is unchanged when nothing was
    /// done. Needs `dst.len() >= j + (src.len() - i)`: a block's stores never run past
    /// the block's own length (the caller's invariant); a slice index panics otherwise.
    #[inline]
    pub fn run(&self, src: &[u8], dst: &mut [u8], i: usize, j: usize) -> (usize, usize) {
        #[cfg(target_arch = "x86_64")]
        if self.avx512 {
            // SAFETY: the CPU has AVX-512 (F, BW, VBMI, VBMI2), SSSE3 and POPCNT, checked by
            // `detect`.
            return unsafe { x86::run_wide(src, dst, i, j) };
        }
        #[cfg(target_arch = "x86_64")]
        if self.ssse3 {
            // SAFETY: the CPU has SSSE3 and POPCNT, checked by `detect`.
            return unsafe { x86::run(src, dst, i, j) };
        }
        let _ = (src, &dst);
        (i, j)
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) mod x86 {
    use std::arch::x86_64::*;

    /// For each 8-bit mask, the shuffle that moves the bytes it selects to the front (in
    /// order), as eight indices in a u64; 0x80 (zero the byte) for the rest.
    static FRONT: [u64; 256] = {
        let mut t = [0u64; 256];
        let mut m = 0;
        while m < 256 {
            let mut v = 0x8080_8080_8080_8080u64;
            let mut k = 0;
            let mut b = 0;
            while b < 8 {
                if m >> b & 1 == 1 {
                    v &= !(0xffu64 << (8 * k));
                    v |= (b as u64) << (8 * k);
                    k += 1;
                }
                b += 1;
            }
            t[m] = v;
            m += 1;
        }
        t
    };

    /// By the low four bits of a three-byte character's first byte: the lowest and highest
    /// second byte of the characters a block keeps whole, U+3400-U+3FFF, U+4E00-U+9FFF and
    /// U+AC00-U+D77F (a subset of the byte loop's ranges: the rest of them go there). A first
    /// byte with none has 0x7f as its lowest, above every second byte.
    const LOWEST: [u8; 16] = [
        0x7f, 0x7f, 0x7f, 0x90, 0xb8, 0x80, 0x80, 0x80, 0x80, 0x80, 0xb0, 0x80, 0x80, 0x80, 0x7f,
        0x7f,
    ];
    const HIGHEST: [u8; 16] = [
        0, 0, 0, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf, 0x9d, 0, 0,
    ];

    #[inline]
    #[target_feature(enable = "ssse3,popcnt")]
    fn table(t: [u8; 16]) -> __m128i {
        let half = |k: usize| u64::from_le_bytes(t[k..k + 8].try_into().unwrap()) as i64;
        _mm_set_epi64x(half(8), half(0))
    }

    /// [`super::Packer::run`] on a CPU with SSSE3 and POPCNT.
    #[inline]
    #[target_feature(enable = "ssse3,popcnt")]
    pub fn run(src: &[u8], dst: &mut [u8], mut i: usize, mut j: usize) -> (usize, usize) {
        let byte = |c: u8| _mm_set1_epi8(c as i8);
        // Signed compares: a range within 0x00-0x7f, or within 0x80-0xff, keeps its order.
        let in_range = |v: __m128i, lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(v, byte(lo - 1)),
                _mm_cmpgt_epi8(byte(hi + 1), v),
            )
        };
        // A block is followed by one more byte: the byte after each character's first.
        while i + 17 <= src.len() {
            let lo = u64::from_le_bytes(src[i..i + 8].try_into().unwrap());
            let hi = u64::from_le_bytes(src[i + 8..i + 16].try_into().unwrap());
            let v = _mm_set_epi64x(hi as i64, lo as i64);
            let wide = _mm_movemask_epi8(v) as u32;
            let lower = _mm_add_epi8(v, _mm_and_si128(in_range(v, b'A', b'Z'), byte(0x20)));
            let keep = _mm_or_si128(in_range(lower, b'a', b'z'), in_range(v, b'0', b'9'));
            let mut mask = _mm_movemask_epi8(keep) as u32;
            // Only the bytes before the first character that is not ASCII, Han or Hangul: the
            // caller folds it; what is stored after the kept bytes is overwritten later.
            let take = if wide == 0 {
                16
            } else {
                let next = _mm_set_epi64x(
                    u64::from_le_bytes(src[i + 9..i + 17].try_into().unwrap()) as i64,
                    u64::from_le_bytes(src[i + 1..i + 9].try_into().unwrap()) as i64,
                );
                // Signed compares again: 0x80-0xff are -128..-1, in the same order.
                let lead = _mm_movemask_epi8(_mm_cmpgt_epi8(v, byte(0xbf))) as u32 & wide;
                // Three-byte characters kept whole, by the range their second byte must be in
                // for their first (see `LOWEST`).
                let lowest = table(LOWEST);
                let highest = table(HIGHEST);
                let nibble = _mm_and_si128(v, byte(0x0f));
                let outside = _mm_or_si128(
                    _mm_cmpgt_epi8(_mm_shuffle_epi8(lowest, nibble), next),
                    _mm_cmpgt_epi8(next, _mm_shuffle_epi8(highest, nibble)),
                );
                let whole = _mm_andnot_si128(outside, in_range(v, 0xe0, 0xef));
                // Any other character, or one that does not end inside the block.
                let stop = lead & !(_mm_movemask_epi8(whole) as u32) | lead & 0xc000;
                mask |= wide;
                if stop == 0 {
                    16
                } else {
                    stop.trailing_zeros() as usize
                }
            };
            mask &= (1u32 << take) - 1;
            let (m0, m1) = (mask & 0xff, mask >> 8);
            let shuffle = _mm_set_epi64x(
                FRONT[m1 as usize].wrapping_add(0x0808_0808_0808_0808) as i64,
                FRONT[m0 as usize] as i64,
            );
            let packed = _mm_shuffle_epi8(lower, shuffle);
            let first = _mm_cvtsi128_si64(packed) as u64;
            let second = _mm_cvtsi128_si64(_mm_unpackhi_epi64(packed, packed)) as u64;
            dst[j..j + 8].copy_from_slice(&first.to_le_bytes());
            let n0 = m0.count_ones() as usize;
            dst[j + n0..j + n0 + 8].copy_from_slice(&second.to_le_bytes());
            j += n0 + m1.count_ones() as usize;
            i += take;
            if take < 16 {
                break;
            }
        }
        (i, j)
    }

    /// [`run64`], then [`run`] for what is left: the last blocks of fewer than 64 bytes.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2,ssse3,popcnt")]
    pub fn run_wide(src: &[u8], dst: &mut [u8], i: usize, j: usize) -> (usize, usize) {
        let (i, j) = run64(src, dst, i, j, super::LATIN.get());
        run(src, dst, i, j)
    }

    /// [`run`] sixty-four bytes at a time: the same bytes kept, the same stops (any character
    /// that is neither ASCII nor Han or Hangul, or one that does not end inside the block),
    /// with mask registers in place of movemasks and one compress in place of the shuffles.
    /// With `latin` (see [`super::LATIN`]), a two-byte character whose form is one ASCII byte
    /// or nothing is folded in place instead of stopping the block: Polish and Portuguese
    /// text has one every few words. Stops before the last 65 bytes (the block reads one
    /// byte past itself).
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2,popcnt")]
    pub fn run64(
        src: &[u8],
        dst: &mut [u8],
        mut i: usize,
        mut j: usize,
        latin: Option<&[u8; 256]>,
    ) -> (usize, usize) {
        let byte = |c: u8| _mm512_set1_epi8(c as i8);
        // Unsigned: `v - lo < n` for the n bytes from lo.
        let in_range = |v: __m512i, lo: u8, n: u8| {
            _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, byte(lo)), byte(n))
        };
        let lowest = _mm512_broadcast_i32x4(table(LOWEST));
        let highest = _mm512_broadcast_i32x4(table(HIGHEST));
        // The table in four registers of 64 entries.
        let quarter = |t: &[u8; 256], k: usize| {
            // SAFETY: 64 bytes from 64 * k, k < 4, inside the 256 of `t`.
            unsafe { _mm512_loadu_si512(t.as_ptr().add(64 * k).cast()) }
        };
        let latin = latin.map(|t| [quarter(t, 0), quarter(t, 1), quarter(t, 2), quarter(t, 3)]);
        while i + 65 <= src.len() {
            // SAFETY: both loads are inside `src` (i + 65 <= its length); unaligned loads.
            let (v, next) = unsafe {
                (
                    _mm512_loadu_si512(src.as_ptr().add(i).cast()),
                    _mm512_loadu_si512(src.as_ptr().add(i + 1).cast()),
                )
            };
            let wide = _mm512_movepi8_mask(v);
            let mut lower = _mm512_mask_add_epi8(v, in_range(v, b'A', 26), v, byte(0x20));
            let mut mask = in_range(lower, b'a', 26) | in_range(v, b'0', 10);
            let take = if wide == 0 {
                64
            } else {
                let lead = _mm512_cmpge_epu8_mask(v, byte(0xc0));
                // As in `run`: the second byte's range for the first byte's low four bits
                // (unsigned compares: a first byte with no range has 0 as its highest).
                let nibble = _mm512_and_si512(v, byte(0x0f));
                let outside = _mm512_cmpgt_epu8_mask(_mm512_shuffle_epi8(lowest, nibble), next)
                    | _mm512_cmpgt_epu8_mask(next, _mm512_shuffle_epi8(highest, nibble));
                let whole = in_range(v, 0xe0, 16) & !outside;
                // Two-byte characters folded here: `fold` marks their first bytes, `letter`
                // those whose form is a letter or digit (written in place of the first byte;
                // the second byte is dropped).
                let (fold, letter) = match latin {
                    Some([t0, t1, t2, t3]) => {
                        let first = in_range(v, 0xc2, 4);
                        let high = _mm512_and_si512(
                            _mm512_slli_epi16::<6>(_mm512_sub_epi8(v, byte(0xc2))),
                            byte(0xc0),
                        );
                        let idx = _mm512_or_si512(high, _mm512_and_si512(next, byte(0x3f)));
                        let form = _mm512_mask_blend_epi8(
                            _mm512_movepi8_mask(idx),
                            _mm512_permutex2var_epi8(t0, idx, t1),
                            _mm512_permutex2var_epi8(t2, idx, t3),
                        );
                        let fold = first & _mm512_test_epi8_mask(form, form);
                        let letter = fold & _mm512_cmpgt_epu8_mask(form, byte(super::DROP));
                        lower = _mm512_mask_mov_epi8(lower, letter, form);
                        (fold, letter)
                    }
                    None => (0, 0),
                };
                let stop = lead & !(whole | fold) | lead & (0b11 << 62);
                mask |= wide & !(fold | fold << 1) | letter;
                if stop == 0 {
                    64
                } else {
                    stop.trailing_zeros() as usize
                }
            };
            if take < 64 {
                mask &= (1u64 << take) - 1;
            }
            let packed = _mm512_maskz_compress_epi8(mask, lower);
            // SAFETY: the caller's invariant gives `dst` room for j + 65 bytes at least (as
            // many as are left in `src`, 65 or more).
            assert!(j + 64 <= dst.len());
            unsafe { _mm512_storeu_si512(dst.as_mut_ptr().add(j).cast(), packed) };
            j += mask.count_ones() as usize;
            i += take;
            if take < 64 {
                break;
            }
        }
        (i, j)
    }
}
