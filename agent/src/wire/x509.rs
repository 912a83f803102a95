//! Two fields of an X.509 certificate (RFC 5280 §4.1), read from its DER
//! bytes: when it stops being valid (the notAfter of its validity), for
//! blackbox_exporter's `probe_ssl_earliest_cert_expiry`; and its subject
//! alternative names, for web-config.yml's `client_allowed_sans`.
//!
//! Only the paths to those fields are walked:
//!
//! ```text
//! Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
//! TBSCertificate ::= SEQUENCE { [0] version OPTIONAL (absent in v1),
//!     serialNumber INTEGER, signature SEQUENCE, issuer SEQUENCE,
//!     validity SEQUENCE { notBefore Time, notAfter Time },
//!     subject SEQUENCE, subjectPublicKeyInfo SEQUENCE,
//!     [1] issuerUniqueID OPTIONAL, [2] subjectUniqueID OPTIONAL,
//!     [3] EXPLICIT SEQUENCE OF Extension OPTIONAL }
//! Time ::= CHOICE { UTCTime, GeneralizedTime }
//! Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
//!     extnValue OCTET STRING }
//! subjectAltName (OID 2.5.29.17) ::= SEQUENCE OF GeneralName, of which
//!     [1] rfc822Name, [2] dNSName, [6] URI and [7] iPAddress are read
//! ```
//!
//! Times take RFC 5280's forms only (§4.1.2.5): a UTCTime is
//! `YYMMDDHHMMSSZ`, its two-digit year 1950–2049; a GeneralizedTime is
//! `YYYYMMDDHHMMSSZ`, whole seconds, any year (RFC 5280 wants it from
//! 2050 on only, but a certificate that verified has its date read
//! anyway). Anything else (a local time, an offset, fractional seconds,
//! the 30th of February) is an error, not a guess. Nothing else of the certificate is read, and nothing here is
//! trusted: the chain was verified by rustls before sonde asks when it
//! ends.
//!
//! Invariants: no allocation, no recursion, no panic; every length is
//! checked against the bytes that remain, and a length takes at most four
//! octets. The notAfter reader reads at most nine DER headers whatever the
//! input; the names reader a number bounded by the input's length (each
//! header it reads consumes at least two bytes of it).

use super::Error;

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
/// `[0] EXPLICIT Version`: context-specific, constructed, tag 0.
const VERSION: u8 = 0xA0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const BOOLEAN: u8 = 0x01;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
/// `[3] EXPLICIT Extensions`: context-specific, constructed, tag 3.
const EXTENSIONS: u8 = 0xA3;
/// id-ce-subjectAltName, 2.5.29.17, as its OID's contents.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

const TRUNCATED: Error = Error::at(0, "certificate cut short");

/// Unix seconds of the certificate's notAfter. `der` is one certificate,
/// nothing before or after it.
pub fn not_after(der: &[u8]) -> Result<i64, Error> {
    let (validity, _) = expect(from_validity(der)?, SEQUENCE, "no validity SEQUENCE")?;
    let (tag, _, rest) = element(validity)?;
    if tag != UTC_TIME && tag != GENERALIZED_TIME {
        return Err(Error::at(0, "notBefore is not a UTCTime or GeneralizedTime"));
    }
    let (tag, value, _) = element(rest)?;
    time(tag, value)
}

/// A subject alternative name of the four kinds exporter-toolkit compares
/// (RFC 5280 §4.2.1.6), as the certificate spells it: an IA5String's
/// bytes, or an address's 4 or 16 octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AltName<'a> {
    Email(&'a [u8]),
    Dns(&'a [u8]),
    Uri(&'a [u8]),
    Ip(&'a [u8]),
}

/// Calls `each` with the certificate's subject alternative names of those
/// kinds, in its order, until `each` says true; whether it did. A
/// certificate without the extension (v1 and v2 have none) has no names;
/// other kinds of name (otherName, directoryName...) are passed over.
pub fn any_alt_name<'a>(der: &'a [u8], mut each: impl FnMut(AltName<'a>) -> bool) -> Result<bool, Error> {
    let mut rest = expect(from_validity(der)?, SEQUENCE, "no validity SEQUENCE")?.1;
    rest = expect(rest, SEQUENCE, "no subject Name")?.1;
    rest = expect(rest, SEQUENCE, "no subjectPublicKeyInfo")?.1;
    // The unique IDs, if any, then the extensions, if any.
    while !rest.is_empty() {
        let (tag, contents, after) = element(rest)?;
        rest = after;
        if tag != EXTENSIONS {
            continue;
        }
        let (mut list, _) = expect(contents, SEQUENCE, "extensions are not a SEQUENCE")?;
        while !list.is_empty() {
            let (extension, after) = expect(list, SEQUENCE, "an extension is not a SEQUENCE")?;
            list = after;
            let (oid, mut value) = expect(extension, OID, "an extension without its OID")?;
            if oid != SUBJECT_ALT_NAME {
                continue;
            }
            if value.first() == Some(&BOOLEAN) {
                value = element(value)?.2;
            }
            let (octets, _) = expect(value, OCTET_STRING, "subjectAltName's value is not an OCTET STRING")?;
            let (mut names, _) = expect(octets, SEQUENCE, "subjectAltName is not a SEQUENCE")?;
            while !names.is_empty() {
                let (tag, name, after) = element(names)?;
                names = after;
                // Context-specific, primitive (IMPLICIT): 0x80 | the number.
                let name = match tag {
                    0x81 => AltName::Email(name),
                    0x82 => AltName::Dns(name),
                    0x86 => AltName::Uri(name),
                    0x87 => AltName::Ip(name),
                    _ => continue,
                };
                if each(name) {
                    return Ok(true);
                }
            }
            // RFC 5280 §4.2: an extension appears at most once.
            return Ok(false);
        }
    }
    Ok(false)
}

/// The tbsCertificate of the one certificate `der` is, from its validity
/// on.
fn from_validity(der: &[u8]) -> Result<&[u8], Error> {
    let (certificate, after) = expect(der, SEQUENCE, "not a certificate (no outer SEQUENCE)")?;
    if !after.is_empty() {
        return Err(Error::at(0, "bytes after the certificate"));
    }
    let (tbs, _) = expect(certificate, SEQUENCE, "no tbsCertificate SEQUENCE")?;
    let mut rest = tbs;
    if rest.first() == Some(&VERSION) {
        rest = element(rest)?.2;
    }
    rest = expect(rest, INTEGER, "no serialNumber INTEGER")?.1;
    rest = expect(rest, SEQUENCE, "no signature AlgorithmIdentifier")?.1;
    rest = expect(rest, SEQUENCE, "no issuer Name")?.1;
    Ok(rest)
}

/// One DER element at the start of `input`: its tag, its contents, and
/// what follows it.
fn element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), Error> {
    let (&tag, rest) = input.split_first().ok_or(TRUNCATED)?;
    if tag & 0x1f == 0x1f {
        // High tag numbers: no field on either path uses them.
        return Err(Error::at(0, "a multi-octet tag"));
    }
    let (&first, rest) = rest.split_first().ok_or(TRUNCATED)?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81..=0x84 => {
            let (octets, rest) = rest.split_at_checked(usize::from(first & 0x7f)).ok_or(TRUNCATED)?;
            let len = octets.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
            (usize::try_from(len).map_err(|_| TRUNCATED)?, rest)
        }
        // 0x80 is BER's indefinite length, which DER forbids; more than
        // four length octets would describe more than 4 GiB.
        _ => return Err(Error::at(0, "a length DER does not allow")),
    };
    let (contents, rest) = rest.split_at_checked(len).ok_or(TRUNCATED)?;
    Ok((tag, contents, rest))
}

/// The contents of an element with tag `tag` and what follows it.
fn expect<'a>(input: &'a [u8], tag: u8, what: &'static str) -> Result<(&'a [u8], &'a [u8]), Error> {
    match element(input)? {
        (t, contents, rest) if t == tag => Ok((contents, rest)),
        _ => Err(Error::at(0, what)),
    }
}

/// A Time's value in unix seconds.
fn time(tag: u8, value: &[u8]) -> Result<i64, Error> {
    const BAD: Error = Error::at(0, "notAfter is not YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ");
    let (year, rest) = match (tag, value) {
        // RFC 5280 §4.1.2.5.1: YY of 50 or more is 19YY, else 20YY.
        (UTC_TIME, &[a, b, ref rest @ ..]) => {
            let yy = two(a, b).ok_or(BAD)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, rest)
        }
        (GENERALIZED_TIME, &[a, b, c, d, ref rest @ ..]) => (two(a, b).ok_or(BAD)? * 100 + two(c, d).ok_or(BAD)?, rest),
        (UTC_TIME | GENERALIZED_TIME, _) => return Err(BAD),
        _ => return Err(Error::at(0, "notAfter is not a UTCTime or GeneralizedTime")),
    };
    let &[m0, m1, d0, d1, h0, h1, n0, n1, s0, s1, b'Z'] = rest else { return Err(BAD) };
    let field = |a, b, range: std::ops::RangeInclusive<u32>| two(a, b).filter(|v| range.contains(v)).ok_or(BAD);
    let month = field(m0, m1, 1..=12)?;
    let day = field(d0, d1, 1..=days_in_month(year, month))?;
    let hour = field(h0, h1, 0..=23)?;
    let minute = field(n0, n1, 0..=59)?;
    let second = field(s0, s1, 0..=59)?;
    let days = super::date::days_from_civil(i64::from(year), i64::from(month), i64::from(day));
    Ok(days * 86_400 + i64::from(hour * 3600 + minute * 60 + second))
}

/// Two ASCII digits as a number.
fn two(a: u8, b: u8) -> Option<u32> {
    (a.is_ascii_digit() && b.is_ascii_digit()).then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DER of a PEM file's first certificate.
    fn der(pem: &str) -> Vec<u8> {
        let b64: String = pem
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        };
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in b64.bytes().filter(|&c| c != b'=') {
            acc = (acc << 6) | u32::from(value(c));
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out
    }

    macro_rules! fixture {
        ($f:literal) => {
            der(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/x509/", $f)))
        };
    }

    /// A certificate of the shape the reader walks, with `validity`'s two
    /// times as given (tag and text); signature and keys are empty, as the
    /// reader never looks at them.
    fn made(before: (u8, &[u8]), after: (u8, &[u8])) -> Vec<u8> {
        fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
            let mut v = vec![tag];
            match contents.len() {
                n @ 0..=0x7f => v.push(n as u8),
                n @ 0x80..=0xff => v.extend([0x81, n as u8]),
                n => v.extend([0x82, (n >> 8) as u8, n as u8]),
            }
            v.extend_from_slice(contents);
            v
        }
        let validity = [tlv(before.0, before.1), tlv(after.0, after.1)].concat();
        let tbs = [
            tlv(VERSION, &tlv(INTEGER, &[2])),
            tlv(INTEGER, &[0x01, 0x23]),
            tlv(SEQUENCE, &[]),
            tlv(SEQUENCE, &[0x31, 0x00]),
            tlv(SEQUENCE, &validity),
            tlv(SEQUENCE, &[]),
        ]
        .concat();
        tlv(SEQUENCE, &[tlv(SEQUENCE, &tbs), tlv(SEQUENCE, &[]), tlv(0x03, &[0])].concat())
    }

    fn after(tag: u8, text: &[u8]) -> Result<i64, Error> {
        not_after(&made((UTC_TIME, b"700101000000Z"), (tag, text)))
    }

    #[test]
    fn real_certificates_give_what_openssl_says() {
        // `openssl x509 -enddate` and `date -u -d ... +%s`, in the README.
        assert_eq!(not_after(&fixture!("utctime.pem")), Ok(2_110_657_387)); // Nov 18 21:43:07 2036 GMT
        assert_eq!(not_after(&fixture!("generalizedtime.pem")), Ok(4_948_897_388)); // Oct 28 21:43:08 2126 GMT
        assert_eq!(not_after(&fixture!("v1.pem")), Ok(1_797_889_388)); // Dec 21 21:43:08 2026 GMT
    }

    #[test]
    fn two_digit_years_pivot_at_1950() {
        assert_eq!(after(UTC_TIME, b"500101000000Z"), Ok(-631_152_000));
        assert_eq!(after(UTC_TIME, b"491231235959Z"), Ok(2_524_607_999));
        assert_eq!(after(UTC_TIME, b"700101000000Z"), Ok(0));
        assert_eq!(after(GENERALIZED_TIME, b"99991231235959Z"), Ok(253_402_300_799)); // RFC 5280's "no expiry"
        assert_eq!(after(GENERALIZED_TIME, b"19700101000001Z"), Ok(1));
        // RFC 5280 wants UTCTime up to 2049, but a verified certificate
        // that says 2030 in GeneralizedTime still has a date (the fuzzer
        // found one in year 126).
        assert_eq!(after(GENERALIZED_TIME, b"00000101000000Z"), Ok(-62_167_219_200));
    }

    #[test]
    fn calendar_fields_are_checked() {
        assert_eq!(after(UTC_TIME, b"240229120000Z"), Ok(1_709_208_000));
        assert_eq!(after(GENERALIZED_TIME, b"20000229000000Z"), Ok(951_782_400));
        for bad in [&b"230229120000Z"[..], b"241301000000Z", b"240100000000Z", b"240431000000Z", b"240101240000Z"] {
            assert!(after(UTC_TIME, bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(after(GENERALIZED_TIME, b"21000229000000Z").is_err(), "2100 is not a leap year");
        assert!(after(UTC_TIME, b"240101000060Z").is_err());
    }

    #[test]
    fn only_rfc_5280_time_forms_are_read() {
        for (tag, bad) in [
            (UTC_TIME, &b"2401010000Z"[..]),          // no seconds
            (UTC_TIME, b"240101000000"),              // local time
            (UTC_TIME, b"240101000000+0100"),         // an offset
            (GENERALIZED_TIME, b"20240101000000.5Z"), // fractional seconds
            (GENERALIZED_TIME, b"240101000000Z"),     // two-digit year
            (UTC_TIME, b"2401010000 0Z"),
            (UTC_TIME, b"-40101000000Z"),
            (0x0c, b"240101000000Z"), // a UTF8String
        ] {
            assert!(after(tag, bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    /// Every name `any_alt_name` gives, in order.
    fn alt_names(der: &[u8]) -> Result<Vec<AltName<'_>>, Error> {
        let mut all = Vec::new();
        any_alt_name(der, |n| {
            all.push(n);
            false
        })?;
        Ok(all)
    }

    #[test]
    fn alt_names_of_the_four_kinds_in_the_certificates_order() {
        // `openssl x509 -ext subjectAltName`, in the README; the otherName,
        // the directoryName and the registeredID are passed over.
        let der = fixture!("sans.pem");
        assert_eq!(
            alt_names(&der),
            Ok(vec![
                AltName::Dns(b"prometheus.example.org"),
                AltName::Email(b"ops@example.org"),
                AltName::Uri(b"spiffe://example.org/ns/monitoring/sa/prometheus"),
                AltName::Ip(&[192, 0, 2, 7]),
                AltName::Ip(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]),
                AltName::Ip(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 1]),
            ])
        );
        // It stops at the first name `each` takes.
        let mut seen = 0;
        assert_eq!(
            any_alt_name(&der, |n| {
                seen += 1;
                n == AltName::Email(b"ops@example.org")
            }),
            Ok(true)
        );
        assert_eq!(seen, 2);
        // A certificate without the extension, v3 or v1, has none.
        assert_eq!(alt_names(&fixture!("utctime.pem")), Ok(vec![]));
        assert_eq!(alt_names(&fixture!("v1.pem")), Ok(vec![]));
    }

    #[test]
    fn every_cut_and_every_flipped_byte_of_a_names_certificate_never_panics() {
        let good = fixture!("sans.pem");
        for n in 0..good.len() {
            assert!(any_alt_name(&good[..n], |_| false).is_err(), "cut at {n}");
        }
        for i in 0..good.len() {
            for x in [0x01, 0x80, 0xff] {
                let mut v = good.clone();
                v[i] ^= x;
                let _ = alt_names(&v);
            }
        }
    }

    #[test]
    fn every_cut_and_every_flipped_byte_is_an_error_or_a_date_never_a_panic() {
        let good = fixture!("v1.pem");
        for n in 0..good.len() {
            assert!(not_after(&good[..n]).is_err(), "cut at {n}");
        }
        let mut extra = good.clone();
        extra.push(0);
        assert!(not_after(&extra).is_err());
        for i in 0..good.len() {
            for x in [0x01, 0x80, 0xff] {
                let mut v = good.clone();
                v[i] ^= x;
                let _ = not_after(&v);
            }
        }
    }

    #[test]
    fn lengths_are_strict_der_and_bounded() {
        let good = made((UTC_TIME, b"700101000000Z"), (UTC_TIME, b"700101000001Z"));
        assert_eq!(not_after(&good), Ok(1));
        // BER's indefinite length.
        let mut indefinite = good.clone();
        indefinite[1] = 0x80;
        assert!(not_after(&indefinite).is_err());
        // A five-octet length, and a four-octet one far past the input.
        assert!(element(&[0x30, 0x85, 0, 0, 0, 0, 1, 0]).is_err());
        assert_eq!(element(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Err(TRUNCATED));
        // Long forms that are in range are read.
        assert_eq!(element(&[0x04, 0x81, 0x01, 0xaa, 0xbb]), Ok((0x04, &[0xaa][..], &[0xbb][..])));
        assert_eq!(element(&[0x04, 0x82, 0x00, 0x01, 0xaa]), Ok((0x04, &[0xaa][..], &[][..])));
        assert!(element(&[0x1f, 0x81, 0x01, 0x00]).is_err(), "a multi-octet tag");
    }
}
