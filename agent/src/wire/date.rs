//! Dates as the receivers want them written: RFC 3339 for Alertmanager
//! (`2026-12-05T00:27:02.123Z`) and RFC 5322 for mail
//! (`Sat, 05 Dec 2026 00:27:02 +0000`), from milliseconds since the epoch,
//! always in UTC (a static binary has no time zone database to read, and
//! a mail client shows the reader's own zone anyway).
//!
//! Invariants: every input gives a well-formed date; times before the
//! epoch are written as the epoch and those past year 9999 as its last
//! millisecond, so the year always has four digits. Nothing allocates but
//! the caller's string.

/// The last millisecond of year 9999.
const MAX_MS: i64 = 253_402_300_799_999;

/// A UTC time broken down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: u32,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milli: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

/// `ms` since the epoch, broken down (clamped to years 1970 to 9999).
pub fn civil(ms: i64) -> Civil {
    let ms = ms.clamp(0, MAX_MS) as u64;
    let secs = ms / 1000;
    let days = secs / 86_400;
    let of_day = secs % 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    Civil {
        year: year as u32,
        month: month as u32,
        day: day as u32,
        hour: (of_day / 3600) as u32,
        minute: (of_day / 60 % 60) as u32,
        second: (of_day % 60) as u32,
        milli: (ms % 1000) as u32,
        // 1970-01-01 was a Thursday.
        weekday: ((days + 4) % 7) as u32,
    }
}

fn push_num(out: &mut String, n: u32, width: usize) {
    let s = n.to_string();
    for _ in s.len()..width {
        out.push('0');
    }
    out.push_str(&s);
}

/// Appends `ms` as RFC 3339 in UTC with milliseconds.
pub fn rfc3339(ms: i64, out: &mut String) {
    let c = civil(ms);
    push_num(out, c.year, 4);
    out.push('-');
    push_num(out, c.month, 2);
    out.push('-');
    push_num(out, c.day, 2);
    out.push('T');
    push_num(out, c.hour, 2);
    out.push(':');
    push_num(out, c.minute, 2);
    out.push(':');
    push_num(out, c.second, 2);
    out.push('.');
    push_num(out, c.milli, 3);
    out.push('Z');
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Appends `ms` as an RFC 5322 date-time in UTC (`+0000`).
pub fn rfc5322(ms: i64, out: &mut String) {
    let c = civil(ms);
    out.push_str(DAYS[c.weekday as usize % 7]);
    out.push_str(", ");
    push_num(out, c.day, 2);
    out.push(' ');
    out.push_str(MONTHS[(c.month as usize + 11) % 12]);
    out.push(' ');
    push_num(out, c.year, 4);
    out.push(' ');
    push_num(out, c.hour, 2);
    out.push(':');
    push_num(out, c.minute, 2);
    out.push(':');
    push_num(out, c.second, 2);
    out.push_str(" +0000");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(ms: i64) -> (String, String) {
        let (mut a, mut b) = (String::new(), String::new());
        rfc3339(ms, &mut a);
        rfc5322(ms, &mut b);
        (a, b)
    }

    #[test]
    fn known_dates() {
        assert_eq!(both(0), ("1970-01-01T00:00:00.000Z".into(), "Thu, 01 Jan 1970 00:00:00 +0000".into()));
        // `date -u -d @784111777`: RFC 9110's example date.
        assert_eq!(both(784_111_777_000).1, "Sun, 06 Nov 1994 08:49:37 +0000");
        assert_eq!(both(1_456_747_200_123).0, "2016-02-29T12:00:00.123Z", "a leap day");
        assert_eq!(both(1_796_430_422_500).0, "2026-12-05T00:27:02.500Z");
        assert_eq!(both(1_796_430_422_500).1, "Sat, 05 Dec 2026 00:27:02 +0000");
    }

    #[test]
    fn out_of_range_times_are_clamped() {
        assert_eq!(both(-1).0, "1970-01-01T00:00:00.000Z");
        assert_eq!(both(i64::MAX).0, "9999-12-31T23:59:59.999Z");
        assert_eq!(both(i64::MIN).1, "Thu, 01 Jan 1970 00:00:00 +0000");
    }

    /// Every day of four centuries reads as a valid date, one after the
    /// other.
    #[test]
    fn days_follow_each_other() {
        let mut last = civil(0);
        for d in 1..146_097i64 {
            let c = civil(d * 86_400_000);
            let next_day = c.day == last.day + 1 && c.month == last.month && c.year == last.year;
            let next_month = c.day == 1 && (c.month == last.month + 1 && c.year == last.year);
            let next_year = c.day == 1 && c.month == 1 && last.month == 12 && c.year == last.year + 1;
            assert!(next_day || next_month || next_year, "{last:?} then {c:?}");
            assert_eq!(c.weekday, (last.weekday + 1) % 7);
            last = c;
        }
    }
}
