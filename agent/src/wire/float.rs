//! Decimal text to `f64`, correctly rounded, without core's tables.
//!
//! `str::parse::<f64>` (core's `dec2flt`) costs about 15 KB of a static
//! binary, 10 KB of it the Eisel-Lemire table of 128-bit powers of five.
//! sonde reads floats only from small text (exposition values, textfiles,
//! config values, /proc and sysfs files), so speed on long or extreme
//! inputs matters little; [`parse`] is about 3 KB of armv6 code and a
//! 23-entry table.
//!
//! Invariants:
//!
//! - **Same accept set as `f64::from_str`**: an optional `+` or `-`, then
//!   either digits with at most one `.` and at least one digit, followed by
//!   an optional exponent (`e` or `E`, an optional sign, at least one
//!   digit); or `inf`, `infinity`, `nan` in any case. Nothing else: no
//!   whitespace, no `_`, no hex, no empty string. Callers that want less
//!   (no `NaN`, finite only) filter the result, as they did before.
//! - **Same value, bit for bit**: the result is the nearest `f64`, ties to
//!   even; too large rounds to infinity, too small to (signed) zero; `-`
//!   gives negative zero and, like std, a NaN with its sign bit set.
//! - **Bounded**: no allocation, no recursion, no panic; a fixed
//!   [`MAX_DIGITS`]-digit buffer on the stack. Digits past it are kept
//!   only as "something nonzero follows", which is all correct rounding
//!   needs (767 significant digits decide any `f64`). Exponents are
//!   clamped far past where the result is already zero or infinity.
//!
//! The common case (at most 19 significant digits, the value an integer
//! of at most 53 bits times 10^-22..=10^22) is Clinger's fast path: two
//! exact values and one correctly rounded IEEE operation. Everything else
//! goes through the "simple decimal conversion" (Nigel Tao's, as in Wuffs
//! and in core's own slow path): the decimal digits are shifted by powers
//! of two until the value lies in [1/2, 1), then 53 bits are read off and
//! rounded, exactly, on the digits themselves.

/// Significant digits kept for the exact path; the rest only say whether
/// anything nonzero was cut off. Core keeps 768; 767 is proven enough.
pub const MAX_DIGITS: usize = 800;

/// Exponents beyond this are clamped: any nonzero value is then zero or
/// infinite whatever digits come with it, up to inputs of 10^5 digits,
/// and a longer one still only moves the decimal point within `i64`.
const MAX_EXP: i64 = 1 << 40;

/// 10^0..=10^22, each exact in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// Parses `s` as `f64::from_str` does: `None` exactly where std says
/// `Err`, otherwise the same bits (NaN's payload aside).
pub fn parse(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (negative, body) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let v = match scan(body) {
        Some(n) => n.value(body),
        None => special(body)?,
    };
    Some(if negative { -v } else { v })
}

/// `inf`, `infinity` or `nan`, any case.
fn special(b: &[u8]) -> Option<f64> {
    if b.eq_ignore_ascii_case(b"inf") || b.eq_ignore_ascii_case(b"infinity") {
        Some(f64::INFINITY)
    } else if b.eq_ignore_ascii_case(b"nan") {
        Some(f64::NAN)
    } else {
        None
    }
}

/// Where a decimal's significant digits are, and its scale.
struct Number {
    /// Index of the first nonzero digit and one past the last, in the
    /// body; a `.` may lie between them. `first == end` for zero.
    first: usize,
    end: usize,
    /// How many significant digits there are (the `.` not counted).
    count: usize,
    /// The value is `0.d1d2d3… × 10^point`.
    point: i64,
}

/// Checks the syntax of an unsigned decimal and finds its digits.
fn scan(b: &[u8]) -> Option<Number> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_len = digits(0);
    let mut i = int_len;
    let mut frac_len = 0;
    if b.get(i) == Some(&b'.') {
        frac_len = digits(i + 1);
        i += 1 + frac_len;
    }
    if int_len + frac_len == 0 {
        return None;
    }
    let mantissa_end = i;
    let mut exp: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let neg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let n = digits(i);
        if n == 0 {
            return None;
        }
        for &c in &b[i..i + n] {
            exp = (exp * 10 + i64::from(c - b'0')).min(MAX_EXP);
        }
        i += n;
        if neg {
            exp = -exp;
        }
    }
    if i != b.len() {
        return None;
    }
    // Leading zeros (in either part) only move the point; trailing zeros
    // are dropped.
    let is_zero = |c: &u8| *c == b'0' || *c == b'.';
    let Some(first) = b[..mantissa_end].iter().position(|c| !is_zero(c)) else {
        return Some(Number { first: 0, end: 0, count: 0, point: 0 });
    };
    let end = mantissa_end - b[..mantissa_end].iter().rev().take_while(|c| is_zero(c)).count();
    let dot_inside = first < int_len && end > int_len;
    let count = end - first - usize::from(dot_inside);
    // Digits before the point that are significant, negative when zeros
    // follow the point before the first nonzero digit.
    let lead = if first < int_len { (int_len - first) as i64 } else { -((first - int_len - 1) as i64) };
    Some(Number { first, end, count, point: lead + exp })
}

impl Number {
    fn value(&self, b: &[u8]) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        if let Some(v) = self.fast(b) {
            return v;
        }
        let mut d = Decimal { digits: [0; BUF], len: 0, point: 0, truncated: false };
        if self.point < -324 {
            return 0.0;
        }
        if self.point >= 310 {
            return f64::INFINITY;
        }
        d.point = self.point as i32;
        for &c in b[self.first..self.end].iter().filter(|c| **c != b'.') {
            if d.len < MAX_DIGITS {
                d.digits[d.len] = c - b'0';
                d.len += 1;
            } else {
                // The last digit is nonzero, so something nonzero is cut.
                d.truncated = true;
                break;
            }
        }
        d.float()
    }

    /// Clinger's fast path, and its "disguised" case (1e30 = 1000000 × 1e24).
    fn fast(&self, b: &[u8]) -> Option<f64> {
        if self.count > 19 {
            return None;
        }
        let m = b[self.first..self.end].iter().filter(|c| **c != b'.').fold(0u64, |m, c| m * 10 + u64::from(c - b'0'));
        let e = self.point - self.count as i64;
        const MAX_EXACT: u64 = 1 << 53;
        if m > MAX_EXACT || !(-22..=22 + 15).contains(&e) {
            return None;
        }
        if e < 0 {
            return Some(m as f64 / POW10[(-e) as usize]);
        }
        if e <= 22 {
            return Some(m as f64 * POW10[e as usize]);
        }
        let m = m.checked_mul(POW10[(e - 22) as usize] as u64).filter(|m| *m <= MAX_EXACT)?;
        Some(m as f64 * POW10[22])
    }
}

/// Room for `MAX_DIGITS` and the digits a left shift adds before they are
/// cut back.
const BUF: usize = MAX_DIGITS + MAX_SHIFT / 3 + 1;

/// Bits shifted at once: a digit times 2^60 plus a carry fits in a `u64`.
const MAX_SHIFT: usize = 60;

/// `0.d1d2…d(len) × 10^point`, plus whether nonzero digits were cut off.
struct Decimal {
    digits: [u8; BUF],
    len: usize,
    point: i32,
    truncated: bool,
}

impl Decimal {
    /// Past this the value is zero or infinite for `f64`'s purposes.
    const POINT_RANGE: i32 = 2047;

    fn float(&mut self) -> f64 {
        const MIN_EXP: i32 = -1022;
        const MANTISSA_BITS: usize = 52;
        const INFINITE: i32 = 0x7ff;
        // Shifts for 10^n, roughly: the largest 2^k below it.
        let shift = |n: i32| -> usize {
            const POWERS: [u8; 19] = [0, 3, 6, 9, 13, 16, 19, 23, 26, 29, 33, 36, 39, 43, 46, 49, 53, 56, 59];
            POWERS.get(n as usize).map_or(MAX_SHIFT, |&s| s as usize)
        };
        let mut exp2: i32 = 0;
        // Divide by powers of two until the value is below 1 ...
        while self.point > 0 {
            let s = shift(self.point);
            self.right_shift(s);
            if self.point < -Self::POINT_RANGE {
                return 0.0;
            }
            exp2 += s as i32;
        }
        // ... and multiply until it is at least 1/2.
        while self.point <= 0 {
            let s = if self.point == 0 {
                match self.digits[0] {
                    5.. => break,
                    0 | 1 => 2,
                    _ => 1,
                }
            } else {
                shift(-self.point)
            };
            self.left_shift(s);
            if self.point > Self::POINT_RANGE {
                return f64::INFINITY;
            }
            exp2 -= s as i32;
        }
        // Now in [1/2, 1); IEEE significands are in [1, 2).
        exp2 -= 1;
        // Subnormals: denormalise down to the smallest exponent.
        while exp2 < MIN_EXP {
            let n = ((MIN_EXP - exp2) as usize).min(MAX_SHIFT);
            self.right_shift(n);
            exp2 += n as i32;
        }
        if exp2 - MIN_EXP + 1 >= INFINITE {
            return f64::INFINITY;
        }
        self.left_shift(MANTISSA_BITS + 1);
        let mut mantissa = self.round();
        if mantissa >= 1 << (MANTISSA_BITS + 1) {
            // Rounding carried into a new bit.
            self.right_shift(1);
            exp2 += 1;
            mantissa = self.round();
            if exp2 - MIN_EXP + 1 >= INFINITE {
                return f64::INFINITY;
            }
        }
        let mut biased = exp2 - MIN_EXP + 1;
        if mantissa < 1 << MANTISSA_BITS {
            biased -= 1; // subnormal (or zero)
        }
        mantissa &= (1 << MANTISSA_BITS) - 1;
        f64::from_bits(mantissa | (biased as u64) << MANTISSA_BITS)
    }

    /// The integer part, rounded half to even with everything after it
    /// (the cut-off digits included).
    fn round(&self) -> u64 {
        if self.len == 0 || self.point < 0 {
            return 0;
        }
        if self.point > 18 {
            return u64::MAX;
        }
        let p = self.point as usize;
        let mut n = (0..p).fold(0u64, |n, i| n * 10 + u64::from(*self.digits[..self.len].get(i).unwrap_or(&0)));
        if p < self.len {
            let up = match self.digits[p] {
                5 if p + 1 == self.len => self.truncated || n & 1 == 1,
                d => d >= 5,
            };
            n += u64::from(up);
        }
        n
    }

    /// Multiplies by 2^shift, `shift <= MAX_SHIFT`.
    fn left_shift(&mut self, shift: usize) {
        if self.len == 0 {
            return;
        }
        // 2^shift < 10^(shift/3 + 1): no more new digits than that.
        let room = shift / 3 + 1;
        let mut write = self.len + room;
        let mut n: u64 = 0;
        for read in (0..self.len).rev() {
            n += u64::from(self.digits[read]) << shift;
            write -= 1;
            self.digits[write] = (n % 10) as u8;
            n /= 10;
        }
        while n > 0 {
            write -= 1;
            self.digits[write] = (n % 10) as u8;
            n /= 10;
        }
        let total = self.len + room - write;
        self.digits.copy_within(write..write + total, 0);
        self.point += (total - self.len) as i32;
        if total > MAX_DIGITS {
            self.truncated |= self.digits[MAX_DIGITS..total].iter().any(|&d| d != 0);
        }
        self.len = total.min(MAX_DIGITS);
        self.trim();
    }

    /// Divides by 2^shift, `shift <= MAX_SHIFT`, keeping `MAX_DIGITS`.
    fn right_shift(&mut self, shift: usize) {
        let mut read = 0;
        let mut n: u64 = 0;
        // Read digits until the quotient has a first digit.
        while n >> shift == 0 {
            if read < self.len {
                n = 10 * n + u64::from(self.digits[read]);
            } else if n == 0 {
                return;
            } else {
                n *= 10;
            }
            read += 1;
        }
        self.point -= read as i32 - 1;
        if self.point < -Self::POINT_RANGE {
            (self.len, self.point, self.truncated) = (0, 0, false);
            return;
        }
        let mask = (1u64 << shift) - 1;
        let mut write = 0;
        while read < self.len {
            let digit = (n >> shift) as u8;
            n = 10 * (n & mask) + u64::from(self.digits[read]);
            read += 1;
            self.digits[write] = digit;
            write += 1;
        }
        while n > 0 {
            let digit = (n >> shift) as u8;
            n = 10 * (n & mask);
            if write < MAX_DIGITS {
                self.digits[write] = digit;
                write += 1;
            } else if digit > 0 {
                self.truncated = true;
            }
        }
        self.len = write;
        self.trim();
    }

    fn trim(&mut self) {
        while self.len > 0 && self.digits[self.len - 1] == 0 {
            self.len -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(s: &str) {
        let want = s.parse::<f64>().ok();
        let got = parse(s);
        match (want, got) {
            (Some(w), Some(g)) if w.is_nan() => {
                assert!(g.is_nan() && g.is_sign_negative() == w.is_sign_negative(), "{s:?}")
            }
            (Some(w), Some(g)) => assert_eq!(w.to_bits(), g.to_bits(), "{s:?}: want {w:e}, got {g:e}"),
            (None, None) => {}
            _ => panic!("{s:?}: std says {want:?}, parse says {got:?}"),
        }
    }

    #[test]
    fn syntax_is_std_syntax() {
        for s in [
            "",
            "+",
            "-",
            ".",
            "+.",
            "-.",
            "e5",
            ".e5",
            "1e",
            "1e+",
            "1e-",
            "1.e",
            "1..2",
            "1.2.3",
            " 1",
            "1 ",
            "1_0",
            "0x10",
            "1f",
            "1e5.0",
            "++1",
            "--1",
            "+-1",
            "1e++5",
            "١",
            "inf ",
            "infinit",
            "infinityy",
            "nana",
            "in",
            "+nan",
            "-nan",
            "NaN",
            "nAn",
            "inf",
            "Inf",
            "+Inf",
            "-Inf",
            "INFINITY",
            "-infinity",
            "1.",
            ".5",
            "-.5",
            "+1.",
            "1e5",
            "1E+5",
            "1e-5",
            "+1",
            "-0",
            "0",
            "00",
            "0.",
            ".0",
            "-0.0e-0",
            "0e999999999999999999999999",
            "1e999999999999999999999999",
            "1e-999999999999999999999999",
            "1.e5",
            ".5E-3",
            "1e0000000000000000000001",
            "0000000000000000000000000001",
            "٣",
            "1\n",
            "\u{0}",
        ] {
            same(s);
        }
    }

    #[test]
    fn hard_values() {
        for s in [
            "0.1",
            "0.2",
            "0.3",
            "-0.0",
            "0.21",
            "9007199254740992",
            "9007199254740993", // halfway: ties to even, down
            "9007199254740995", // halfway: ties to even, up
            "9007199254740993.0000000000000000000000000000000000000001",
            "1.7976931348623157e308",
            "1.7976931348623158e308", // still MAX: below the halfway point
            "1.7976931348623159e308", // past it: infinity
            "179769313486231580793728971405301e276",
            "2.2250738585072011e-308",
            "2.2250738585072012e-308",
            "2.2250738585072014e-308",
            "2.225073858507201136057409796709131975934819546351645648e-308",
            "4.9406564584124654e-324",
            "5e-324",
            "2.4703282292062327e-324", // just below half of 2^-1074: zero
            "2.4703282292062328e-324", // just above: 2^-1074
            "1e-324",
            "1e-400",
            "1e308",
            "1e309",
            "-1e309",
            "1e22",
            "1e23",
            "1e30",
            "123456789e30",
            "8.98846567431158e307",
            "0.000000000000000000000000000000000000000000001",
            "4503599627370496.5",
            "4503599627370497.5",
            "1.00000000000000011102230246251565404236316680908203125", // 1 + 2^-53: ties to 1
            "1.00000000000000011102230246251565404236316680908203126",
            "1.00000000000000033306690738754696212708950042724609375", // 1 + 3·2^-53: ties up
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999",
            "12345678901234567890.123456789e-10",
            "7.2057594037927933e16",
            "3.4028235677973366e38",
            "1448997445238699",
            "0.000001",
            "123.456",
            "1700000000000",
            "1e+00",
        ] {
            same(s);
        }
        assert_eq!(parse("-0.0").map(f64::to_bits), Some((-0.0f64).to_bits()));
        assert_eq!(parse("9007199254740993"), Some(9007199254740992.0));
        assert_eq!(parse("5e-324"), Some(f64::from_bits(1)));
        assert_eq!(parse("1.7976931348623157e308"), Some(f64::MAX));
        assert_eq!(parse("2e308"), Some(f64::INFINITY));
        assert_eq!(parse("2.2250738585072011e-308"), Some(f64::from_bits(0x000f_ffff_ffff_ffff)));
    }

    #[test]
    fn long_digit_strings() {
        let mut s = String::from("0.");
        for _ in 0..2000 {
            s.push('3');
        }
        same(&s);
        let ones = "1".repeat(5000);
        same(&ones);
        same(&format!("{ones}e-4990"));
        same(&format!("{ones}e-5300"));
        same(&format!("0.{}1e400", "0".repeat(700)));
        same(&format!("{}1", "0".repeat(1000)));
        // A halfway value whose deciding nonzero digit is past MAX_DIGITS.
        same(&format!("9007199254740993{}1", "0".repeat(900)));
        same(&format!("9007199254740993{}", "0".repeat(900)));
        same(&format!("9007199254740993.{}1", "0".repeat(900)));
    }

    /// The exact decimal of `m × 2^-n`: `m × 5^n`, point `n` from the right.
    fn exact(m: u64, n: u32) -> String {
        let mut digits: Vec<u8> = m.to_string().bytes().rev().map(|c| c - b'0').collect(); // little-endian
        for _ in 0..n {
            let mut carry = 0;
            for d in digits.iter_mut() {
                let v = *d * 5 + carry;
                *d = v % 10;
                carry = v / 10;
            }
            if carry > 0 {
                digits.push(carry);
            }
        }
        while digits.len() <= n as usize {
            digits.push(0);
        }
        let mut s: String = digits[n as usize..].iter().rev().map(|d| (b'0' + d) as char).collect();
        s.push('.');
        s.extend(digits[..n as usize].iter().rev().map(|d| (b'0' + d) as char));
        s
    }

    /// Values exactly halfway between two neighbours, and a hair either
    /// side, in the normal and subnormal ranges, written out in full
    /// (hundreds of digits): only exact arithmetic gets these right.
    #[test]
    fn exact_halfway_cases() {
        assert_eq!(exact(3, 2), "0.75");
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut cases = vec![(1u64, 1075u32), (3, 1075), (0x3f_ffff_ffff_ffff, 1075), (0x20_0000_0000_0001, 1075)];
        for _ in 0..60 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // A 54-bit odd significand: halfway between two 53-bit ones.
            let m = (x >> 10) | 1 | 1 << 53;
            cases.push((m, 1075 - (x % 900) as u32));
            cases.push((m >> (x % 50) | 1, 1075));
        }
        for (m, n) in cases {
            let s = exact(m, n);
            same(&s);
            let t = s.trim_end_matches('0');
            // A hair above: a 1 far past the last digit; a hair below: the last digit one less, then 9s.
            same(&format!("{t}000000000000000000001"));
            let cut = &t[..t.len() - 1];
            let last = t.as_bytes()[t.len() - 1];
            if last > b'0' && last != b'.' {
                same(&format!("{cut}{}99999999999999", (last - 1) as char));
            }
            // The same value scaled by its own exponent.
            let digits: String = s.chars().filter(|&c| c != '.').collect();
            same(&format!("{digits}e-{n}"));
        }
    }

    #[test]
    fn round_trips_shortest_and_long_forms() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if f.is_finite() {
                assert_eq!(parse(&format!("{f}")).map(f64::to_bits), Some(x));
                assert_eq!(parse(&format!("{f:e}")).map(f64::to_bits), Some(x));
                same(&format!("{f:.30e}"));
                same(&format!("{:.17e}", f));
            }
        }
    }

    /// Random strings from a small alphabet, so most are near-misses of
    /// the syntax or numbers with odd shapes.
    #[test]
    fn agrees_with_std_on_random_strings() {
        const ALPHABET: &[u8] = b"0123456789000995.eE+-_ nafiINty";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut s = String::new();
        for _ in 0..200_000 {
            s.clear();
            let r = next();
            let len = (r % 40) as usize;
            let digits_only = r & (1 << 20) != 0;
            for _ in 0..len {
                let r = next();
                let c = if digits_only {
                    ALPHABET[(r % 14) as usize]
                } else {
                    ALPHABET[(r % ALPHABET.len() as u64) as usize]
                };
                s.push(c as char);
            }
            if digits_only && r & (1 << 21) != 0 {
                let e = (next() % 700) as i64 - 350;
                s.push_str(&format!("e{e}"));
            }
            same(&s);
        }
    }
}
