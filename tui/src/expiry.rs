//! `--expires`: either a duration from now (`90m`, `12h`, `30d`, `8w`) or an RFC 3339 time.

use chrono::{DateTime, Duration, Utc};

/// The expiry time `text` names, relative to `now`; the error says which forms are accepted.
pub fn parse_expiry(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        let at = at.with_timezone(&Utc);
        if at <= now {
            return Err(format!("--expires {text} is in the past"));
        }
        return Ok(at);
    }
    let bad = || {
        format!(
            "--expires {text:?} is neither a duration (e.g. 90m, 12h, 30d, 8w) nor an RFC 3339 time (e.g. 2030-01-31T00:00:00Z)"
        )
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let count: i64 = number.parse().map_err(|_| bad())?;
    if count == 0 {
        return Err(format!(
            "--expires {text} is zero; give a positive duration"
        ));
    }
    let duration = match unit {
        "m" => Duration::try_minutes(count),
        "h" => Duration::try_hours(count),
        "d" => Duration::try_days(count),
        "w" => Duration::try_weeks(count),
        _ => None,
    }
    .ok_or_else(bad)?;
    now.checked_add_signed(duration).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-05T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn durations_count_from_now() {
        assert_eq!(
            parse_expiry("30d", now()).unwrap().to_rfc3339(),
            "2026-12-05T12:00:00+00:00"
        );
        assert_eq!(
            parse_expiry("90m", now()).unwrap().to_rfc3339(),
            "2026-11-05T13:30:00+00:00"
        );
    }

    #[test]
    fn rfc3339_times_are_taken_as_given_and_must_be_in_the_future() {
        assert_eq!(
            parse_expiry("2027-01-01T00:00:00Z", now())
                .unwrap()
                .to_rfc3339(),
            "2027-01-01T00:00:00+00:00"
        );
        assert!(
            parse_expiry("2020-01-01T00:00:00Z", now())
                .unwrap_err()
                .contains("past")
        );
    }

    #[test]
    fn unknown_forms_are_refused_with_the_accepted_ones() {
        for text in ["30", "d30", "3y", "", "0d"] {
            assert!(parse_expiry(text, now()).is_err(), "{text}");
        }
        assert!(parse_expiry("3y", now()).unwrap_err().contains("RFC 3339"));
    }
}
