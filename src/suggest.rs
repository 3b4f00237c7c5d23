//! "Did you mean" suggestions.

/// The candidate closest to `target`, if it is close enough to be a plausible typo.
///
/// A cheap lower bound on the distance skips most candidates before the quadratic
/// Damerau-Levenshtein: a run with hundreds of unknown names among tens of thousands of
/// declared ones would otherwise spend seconds on suggestions.
pub(crate) fn closest<'a, I>(target: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    pick(target, candidates.into_iter().map(|c| (c, Bag::of(c))))
}

/// Candidates measured once, for many lookups against the same names.
pub(crate) struct Candidates<'a> {
    /// Ordered by length, so that a lookup reads only the names whose length is near.
    names: Vec<(&'a str, Bag)>,
    /// The same names' characters, sixteen names to a block.
    blocks: Vec<Block>,
}

impl<'a> Candidates<'a> {
    pub(crate) fn new(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<_> = names.into_iter().map(|n| (n, Bag::of(n))).collect();
        names.sort_by_key(|(_, bag)| bag.len);
        let blocks = names.chunks(LANES).map(Block::of).collect();
        Candidates { names, blocks }
    }

    /// [`closest`] among these candidates.
    pub(crate) fn closest(&self, target: &str) -> Option<&'a str> {
        // No name further in length than the limit can be within it.
        let len = target.chars().count();
        let limit = limit(len);
        let from = self.names.partition_point(|(_, bag)| bag.len + limit < len);
        let to = self
            .names
            .partition_point(|(_, bag)| bag.len <= len + limit);
        if from >= to {
            return None;
        }
        // Tens of thousands of names per unknown one in a large workspace, nearly all
        // of them far from it: sixteen at a time, by the characters of the target only.
        let wanted = Wanted::of(target);
        let reach = u8::try_from(2 * limit).unwrap_or(u8::MAX);
        let near = (from / LANES..=(to - 1) / LANES)
            .flat_map(|k| {
                let lanes = Lanes(wanted.within(&self.blocks[k], reach));
                lanes.map(move |lane| k * LANES + lane)
            })
            .filter(|at| (from..to).contains(at));
        pick(target, near.map(|at| (self.names[at].0, &self.names[at].1)))
    }
}

/// Names in a [`Block`].
const LANES: usize = 16;

/// The bin of a character in a [`Block`]: one per lower-case letter, digit, `_`, `.` and
/// `-`, the characters of nearly every name, and the others folded into the rest.
fn block_bin(c: char) -> usize {
    match c {
        'a'..='z' => c as usize - 'a' as usize,
        '0'..='9' => 26 + (c as usize - '0' as usize),
        '_' => 36,
        '.' => 37,
        '-' => 38,
        _ => 39 + c as usize % 25,
    }
}

/// How many times each character occurs in sixteen names, bin by bin (saturating), so
/// that one vector operation compares a bin of all of them.
struct Block {
    counts: [[u8; LANES]; 64],
    /// Each name's number of characters (saturating); 255 for a lane without a name.
    totals: [u8; LANES],
}

/// How many times each character of `s` occurs, in [`block_bin`]s (saturating).
fn block_counts(s: &str) -> [u8; 64] {
    let mut counts = [0u8; 64];
    for c in s.chars() {
        let count = &mut counts[block_bin(c)];
        *count = count.saturating_add(1);
    }
    counts
}

impl Block {
    fn of(names: &[(&str, Bag)]) -> Block {
        let mut block = Block {
            counts: [[0; LANES]; 64],
            totals: [u8::MAX; LANES],
        };
        for (lane, (name, bag)) in names.iter().enumerate() {
            for (bin, n) in block_counts(name).into_iter().enumerate() {
                block.counts[bin][lane] = n;
            }
            block.totals[lane] = u8::try_from(bag.len).unwrap_or(u8::MAX);
        }
        block
    }
}

/// A target's bins that hold something, for comparing it with [`Block`]s.
struct Wanted {
    bins: Vec<(usize, u8)>,
}

impl Wanted {
    fn of(target: &str) -> Wanted {
        let counts = block_counts(target).into_iter().enumerate();
        Wanted {
            bins: counts.filter(|&(_, n)| n > 0).collect(),
        }
    }

    /// The names of the block (a bit per lane) whose bins may differ from the target's by
    /// `reach` in all, by a lower bound on that sum (as [`Bag::distance_bound`] before
    /// halving). Only the target's bins are read: in every other bin the difference is the
    /// name's count, and those counts sum to the name's length less what the target's bins
    /// hold. Saturating only lowers the bound.
    fn within(&self, block: &Block, reach: u8) -> u16 {
        let mut apart = [0u8; LANES];
        let mut shared = [0u8; LANES];
        for &(bin, want) in &self.bins {
            let counts = &block.counts[bin];
            for lane in 0..LANES {
                let have = counts[lane];
                let diff = want.saturating_sub(have) | have.saturating_sub(want);
                apart[lane] = apart[lane].saturating_add(diff);
                shared[lane] = shared[lane].saturating_add(have);
            }
        }
        let mut within = 0u16;
        for lane in 0..LANES {
            let rest = block.totals[lane].saturating_sub(shared[lane]);
            let moved = apart[lane].saturating_add(rest);
            within |= u16::from(moved <= reach) << lane;
        }
        within
    }
}

/// The lanes set in a mask of [`Wanted::within`], in order.
struct Lanes(u16);

impl Iterator for Lanes {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let lane = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(lane)
    }
}

/// The largest distance a suggestion may have from a name of `len` characters: a third
/// of it, as rustc's, but never a name that shares nothing with the target (`d` for `o`).
fn limit(len: usize) -> usize {
    (len / 3).max(2).min(len.saturating_sub(1))
}

/// The closest of `candidates`, each with its bag (owned or measured once).
fn pick<'a, B: std::borrow::Borrow<Bag>>(
    target: &str,
    candidates: impl Iterator<Item = (&'a str, B)>,
) -> Option<&'a str> {
    let limit = limit(target.chars().count());
    let wanted = Bag::of(target);
    let pattern = Pattern::of(target);
    let mut best: Option<(usize, &str)> = None;
    for (c, bag) in candidates {
        let cutoff = best.map_or(limit, |(d, _)| d);
        // Cheapest first: tens of thousands of names per unknown one in a large workspace,
        // nearly all of them far from it.
        if !wanted.within(bag.borrow(), cutoff) {
            continue;
        }
        if pattern
            .as_ref()
            .is_some_and(|p| p.levenshtein(c).div_ceil(2) > cutoff)
        {
            continue;
        }
        let Some(d) = distance_within(target, c, cutoff) else {
            continue;
        };
        if best.is_none_or(|(bd, bc)| (d, c) < (bd, bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// A target of at most 64 ASCII characters, ready for Myers' bit-parallel Levenshtein
/// distance: a few operations per character of the candidate, where Damerau-Levenshtein
/// fills a table. Each Damerau-Levenshtein operation costs at most two Levenshtein ones (a
/// transposition, with whatever it skips, is one more than the substitutions, deletions and
/// insertions that do the same), so half the Levenshtein distance bounds it from below.
struct Pattern {
    /// Per ASCII character, the positions of the target that hold it.
    positions: [u64; 128],
    last: u64,
    len: usize,
}

impl Pattern {
    fn of(target: &str) -> Option<Pattern> {
        let len = target.len();
        if !target.is_ascii() || len == 0 || len > 64 {
            return None;
        }
        let mut positions = [0u64; 128];
        for (i, b) in target.bytes().enumerate() {
            positions[b as usize] |= 1 << i;
        }
        let last = 1 << (len - 1);
        Some(Pattern {
            positions,
            last,
            len,
        })
    }

    /// The Levenshtein distance to `text` (Hyyrö's formulation of Myers' algorithm: the
    /// table's vertical differences, one bit per target position, a column per character).
    fn levenshtein(&self, text: &str) -> usize {
        let (mut plus, mut minus) = (u64::MAX, 0u64);
        let mut score = self.len;
        for c in text.chars() {
            let eq = match c {
                c if c.is_ascii() => self.positions[c as usize],
                _ => 0,
            };
            let xv = eq | minus;
            let xh = ((eq & plus).wrapping_add(plus) ^ plus) | eq;
            let ph = minus | !(xh | plus);
            let mh = plus & xh;
            if ph & self.last != 0 {
                score += 1;
            } else if mh & self.last != 0 {
                score -= 1;
            }
            // Row 0 of the table counts up: every column starts one more than the last.
            let ph = (ph << 1) | 1;
            let mh = mh << 1;
            plus = mh | !(xv | ph);
            minus = ph & xv;
        }
        score
    }
}

/// `strsim::damerau_levenshtein` (unrestricted, Lowrance-Wagner) when it is at most
/// `cutoff`, else `None`. Without strsim's per-call hash map when both names are ASCII, as
/// names nearly always are, and stopping at the first row whose every cell exceeds
/// `cutoff`: a row's minimum never decreases (each cell costs at least the previous row's
/// minimum), so the distance would too.
fn distance_within(a: &str, b: &str, cutoff: usize) -> Option<usize> {
    if !a.is_ascii() || !b.is_ascii() {
        let d = strsim::damerau_levenshtein(a, b);
        return (d <= cutoff).then_some(d);
    }
    // A common prefix and suffix cost nothing: names that differ in a few characters
    // (`..._000101` and `..._000102`) leave a small table.
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    let (la, lb) = (a.len(), b.len());
    if la == 0 || lb == 0 {
        return Some(la.max(lb)).filter(|&d| d <= cutoff);
    }
    // Thousands of calls per run: one table per thread, reused.
    TABLE.with_borrow_mut(|d| {
        let max = (la + lb) as u32;
        let width = lb + 2;
        d.clear();
        d.resize((la + 2) * width, 0);
        // Row i + 1, column j + 1 of the table; row and column 0 hold `max`.
        d[0] = max;
        for i in 0..=la {
            d[(i + 1) * width] = max;
            d[(i + 1) * width + 1] = i as u32;
        }
        for j in 0..=lb {
            d[j + 1] = max;
            d[width + j + 1] = j as u32;
        }
        let cutoff = cutoff.min(u32::MAX as usize) as u32;
        let mut last_row = [0u32; 128];
        for i in 1..=la {
            let (done, rest) = d.split_at_mut((i + 1) * width);
            let (prev, cur) = (&done[i * width..], &mut rest[..width]);
            let mut last_col = 0;
            let mut row_min = i as u32;
            let ai = a[i - 1];
            for (j, &bj) in (1..=lb).zip(b) {
                let k = last_row[bj as usize] as usize;
                let l = last_col;
                let cost = match ai == bj {
                    true => {
                        last_col = j;
                        0
                    }
                    false => 1,
                };
                let mut cell = (prev[j] + cost).min(cur[j] + 1).min(prev[j + 1] + 1);
                // Row 0 and column 0 hold `max`: no transposition before either.
                if k > 0 && l > 0 {
                    let transposition =
                        done[k * width + l] + ((i - k - 1) + 1 + (j - l - 1)) as u32;
                    cell = cell.min(transposition);
                }
                cur[j + 1] = cell;
                row_min = row_min.min(cell);
            }
            if row_min > cutoff {
                return None;
            }
            last_row[ai as usize] = i as u32;
        }
        let distance = d[(la + 1) * width + lb + 1];
        (distance <= cutoff).then_some(distance as usize)
    })
}

thread_local! {
    static TABLE: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// How many times each character occurs (ASCII exactly, others folded into the same 128
/// bins, saturating), the same folded into 16 bins, and the length in characters.
struct Bag {
    coarse: [u8; 16],
    bins: [u8; 128],
    len: usize,
}

impl Bag {
    fn of(s: &str) -> Bag {
        let mut bag = Bag {
            coarse: [0; 16],
            bins: [0; 128],
            len: 0,
        };
        for c in s.chars() {
            let bin = &mut bag.bins[(c as usize) % 128];
            *bin = bin.saturating_add(1);
            let coarse = &mut bag.coarse[(c as usize) % 16];
            *coarse = coarse.saturating_add(1);
            bag.len += 1;
        }
        bag
    }

    /// Whether the edit distance to `other` may be at most `cutoff`: the length, then
    /// the coarse bins (one vector of 16 bytes), then the fine ones rule it out.
    fn within(&self, other: &Bag, cutoff: usize) -> bool {
        self.len.abs_diff(other.len) <= cutoff
            && moved(&self.coarse, &other.coarse).div_ceil(2) <= cutoff
            && self.distance_bound(other) <= cutoff
    }

    /// A lower bound on the edit distance: an insertion or deletion changes the length by
    /// one and one bin by one, a substitution two bins by one each, a transposition
    /// nothing. Folding and saturating only make bins closer.
    fn distance_bound(&self, other: &Bag) -> usize {
        moved(&self.bins, &other.bins)
            .div_ceil(2)
            .max(self.len.abs_diff(other.len))
    }
}

/// The sum of the differences of two bags' bins.
fn moved<const N: usize>(a: &[u8; N], b: &[u8; N]) -> usize {
    // 16 bins at a time: one SIMD sum of absolute differences (`psadbw`) per chunk, where
    // LLVM vectorises a sum over the whole array 4 bytes per step.
    let chunk = |(x, y): (&[u8], &[u8])| {
        x.iter()
            .zip(y)
            .map(|(p, q)| u32::from(p.abs_diff(*q)))
            .sum::<u32>()
    };
    a.chunks_exact(16)
        .zip(b.chunks_exact(16))
        .map(chunk)
        .sum::<u32>() as usize
}

/// `did you mean `x`?` for help text.
pub(crate) fn did_you_mean<'a, I>(target: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(target, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random words from a fixed linear congruential sequence.
    struct Words(u64);

    impl Words {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005);
            self.0 = self.0.wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }

        /// A word of a length in `lens`, of the first `letters` letters of the alphabet.
        fn word(&mut self, lens: std::ops::Range<u64>, letters: u64) -> String {
            let len = lens.start + self.below(lens.end - lens.start);
            (0..len)
                .map(|_| (b'a' + self.below(letters) as u8) as char)
                .collect()
        }
    }

    #[test]
    fn suggests_close_names_only() {
        let c = ["purposes", "categories", "fields"];
        assert_eq!(closest("purpose", c), Some("purposes"));
        assert_eq!(closest("catgories", c), Some("categories"));
        assert_eq!(closest("zzz", c), None);
        assert_eq!(closest("o", ["d", "a.b"]), None);
        assert_eq!(closest("ab", ["cd"]), None);
        assert_eq!(closest("abc", ["abd"]), Some("abd"));
    }

    #[test]
    fn distance_is_strsims() {
        let mut w = Words(7);
        for _ in 0..20_000 {
            let (a, b) = (w.word(0..9, 4), w.word(0..9, 4));
            let cutoff = w.below(6) as usize;
            let exact = strsim::damerau_levenshtein(&a, &b);
            let want = (exact <= cutoff).then_some(exact);
            assert_eq!(distance_within(&a, &b, cutoff), want, "{a} {b} {cutoff}");
            assert_eq!(
                distance_within(&a, &b, usize::MAX / 2),
                Some(exact),
                "{a} {b}"
            );
        }
        assert_eq!(distance_within("ca", "abc", 9), Some(2));
        // With a shared prefix and suffix, which the table leaves out.
        for _ in 0..20_000 {
            let (p, x) = (w.word(0..4, 3), w.word(0..6, 3));
            let (y, q) = (w.word(0..6, 3), w.word(0..4, 3));
            let (a, b) = (format!("{p}{x}{q}"), format!("{p}{y}{q}"));
            let exact = strsim::damerau_levenshtein(&a, &b);
            assert_eq!(distance_within(&a, &b, 99), Some(exact), "{a} {b}");
        }
    }

    #[test]
    fn bit_parallel_levenshtein_is_strsims_and_halves_below_damerau() {
        let mut w = Words(11);
        for _ in 0..20_000 {
            let (a, b) = (w.word(0..66, 4), w.word(0..70, 4));
            let Some(pattern) = Pattern::of(&a) else {
                assert!(a.is_empty() || a.len() > 64);
                continue;
            };
            let lev = pattern.levenshtein(&b);
            assert_eq!(lev, strsim::levenshtein(&a, &b), "{a} {b}");
            assert!(
                lev.div_ceil(2) <= strsim::damerau_levenshtein(&a, &b),
                "{a} {b}"
            );
        }
        // Non-ASCII text matches no position of the target.
        let pattern = Pattern::of("name").unwrap();
        assert_eq!(pattern.levenshtein("nämé"), 2);
        assert!(Pattern::of("nämé").is_none());
    }

    #[test]
    fn closest_is_the_nearest_within_the_limit() {
        let mut w = Words(5);
        let names: Vec<String> = (0..300).map(|_| w.word(1..15, 5)).collect();
        let candidates = Candidates::new(names.iter().map(String::as_str));
        for _ in 0..400 {
            let target = w.word(1..15, 5);
            let exact = names
                .iter()
                .map(|c| (strsim::damerau_levenshtein(&target, c), c.as_str()))
                .filter(|&(d, _)| d <= limit(target.len()))
                .min()
                .map(|(_, c)| c);
            assert_eq!(closest(&target, names.iter().map(String::as_str)), exact);
            assert_eq!(candidates.closest(&target), exact, "{target}");
        }
    }

    #[test]
    fn blocks_never_drop_the_closest_name() {
        // Names of every kind of character a block bins (letters, digits, `_.-`, upper
        // case, non-ASCII), in numbers that leave a partial last block.
        const ALPHABET: [char; 12] = ['a', 'b', 'z', '0', '9', '_', '.', '-', 'A', 'Q', 'é', '→'];
        let mut w = Words(13);
        let word = |w: &mut Words| -> String {
            let len = 1 + w.below(24);
            (0..len).map(|_| ALPHABET[w.below(12) as usize]).collect()
        };
        let names: Vec<String> = (0..701).map(|_| word(&mut w)).collect();
        let candidates = Candidates::new(names.iter().map(String::as_str));
        for i in 0..300 {
            // Half of the targets are a name with an edit or two, so that many have a match.
            let target = match i % 2 {
                0 => word(&mut w),
                _ => {
                    let mut t: Vec<char> = names[w.below(701) as usize].chars().collect();
                    for _ in 0..1 + w.below(2) {
                        let at = w.below(t.len() as u64 + 1) as usize;
                        match w.below(3) {
                            0 if at < t.len() => drop(t.remove(at)),
                            1 if at < t.len() => t[at] = ALPHABET[w.below(12) as usize],
                            _ => t.insert(at, ALPHABET[w.below(12) as usize]),
                        }
                    }
                    t.into_iter().collect()
                }
            };
            let len = target.chars().count();
            let exact = names
                .iter()
                .map(|c| (strsim::damerau_levenshtein(&target, c), c.as_str()))
                .filter(|&(d, _)| d <= limit(len))
                .min()
                .map(|(_, c)| c);
            assert_eq!(candidates.closest(&target), exact, "{target}");
        }
    }

    #[test]
    fn the_bound_never_drops_the_closest_name() {
        let names = [
            "accounts.users",
            "accounts.user",
            "ads.uploads",
            "users.accounts",
            "acounts.users",
            "accounts.usres",
            "xaccounts.users",
            "ünïcode.näme",
            "unicode.name",
            "a",
            "ab",
        ];
        for target in names
            .iter()
            .chain(&["accounts.usrs", "unicode.nme", "ba", "adds.uploads"])
        {
            let exact = names
                .iter()
                .map(|c| (strsim::damerau_levenshtein(target, c), *c))
                .filter(|&(d, _)| {
                    let len = target.chars().count();
                    d <= (len / 3).max(2).min(len.saturating_sub(1))
                })
                .min()
                .map(|(_, c)| c);
            assert_eq!(closest(target, names), exact, "{target}");
            assert_eq!(Candidates::new(names).closest(target), exact, "{target}");
            for c in names {
                let bound = Bag::of(target).distance_bound(&Bag::of(c));
                let exact = strsim::damerau_levenshtein(target, c);
                assert!(bound <= exact, "{target} {c}");
                assert!(Bag::of(target).within(&Bag::of(c), exact), "{target} {c}");
            }
        }
    }
}
