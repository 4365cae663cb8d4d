//! `--audio-in` and `--audio-out` specs.
//!
//! - in: `default` (the system microphone), `device:NAME` (a microphone
//!   named as `/devices` lists it), `tone:HZ` (a sine at −6 dBFS),
//!   `file:PATH.wav` (any rate/channels, mixed down and resampled to 48 kHz
//!   mono; loops), `null` (silence).
//! - out: `default` (the system speaker), `device:NAME`, `file:PATH.wav`
//!   (the mix, 48 kHz mono 16-bit), `null` (discarded).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where the sent audio comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum AudioIn {
    Default,
    Device(String),
    Tone(f32),
    File(PathBuf),
    Null,
}

/// Where the received mix goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioOut {
    Default,
    Device(String),
    File(PathBuf),
    Null,
}

impl AudioIn {
    pub const USAGE: &'static str = "tone:HZ, file:PATH.wav, null, default or device:NAME";
}

impl AudioOut {
    pub const USAGE: &'static str = "file:PATH.wav, null, default or device:NAME";
}

/// A spec that does not parse, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("empty audio {0} spec; expected {expected}", expected = expected(.0))]
    Empty(&'static str),
    #[error("unknown audio {what} \"{spec}\"; expected {expected}", expected = expected(.what))]
    Unknown { what: &'static str, spec: String },
    #[error(
        "\"{0}\" is not a tone frequency; expected tone:HZ with HZ between 20 and 20000 (e.g. tone:440)"
    )]
    Tone(String),
    #[error("\"file:\" needs a path (e.g. file:out.wav)")]
    MissingPath,
    #[error("\"device:\" needs a device name (see /devices)")]
    MissingDevice,
}

fn expected(what: &str) -> &'static str {
    if what == "input" {
        AudioIn::USAGE
    } else {
        AudioOut::USAGE
    }
}

/// `kind:rest` with a case-insensitive kind.
fn split(s: &str) -> (String, Option<&str>) {
    match s.split_once(':') {
        Some((kind, rest)) => (kind.trim().to_ascii_lowercase(), Some(rest)),
        None => (s.trim().to_ascii_lowercase(), None),
    }
}

fn path(rest: Option<&str>) -> Result<PathBuf, SpecError> {
    match rest {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => Err(SpecError::MissingPath),
    }
}

fn device(rest: Option<&str>) -> Result<String, SpecError> {
    match rest.map(str::trim) {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(SpecError::MissingDevice),
    }
}

fn tone(rest: Option<&str>) -> Result<f32, SpecError> {
    let raw = rest.unwrap_or("").trim();
    let digits = raw
        .strip_suffix("hz")
        .or_else(|| raw.strip_suffix("Hz"))
        .or_else(|| raw.strip_suffix("HZ"))
        .unwrap_or(raw)
        .trim();
    match digits.parse::<f32>() {
        Ok(hz) if (20.0..=20_000.0).contains(&hz) => Ok(hz),
        _ => Err(SpecError::Tone(raw.to_string())),
    }
}

impl FromStr for AudioIn {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<AudioIn, SpecError> {
        if s.trim().is_empty() {
            return Err(SpecError::Empty("input"));
        }
        match split(s) {
            (k, None) if k == "default" => Ok(AudioIn::Default),
            (k, None) if k == "null" || k == "silence" => Ok(AudioIn::Null),
            (k, rest) if k == "tone" => tone(rest).map(AudioIn::Tone),
            (k, rest) if k == "file" => path(rest).map(AudioIn::File),
            (k, rest) if k == "device" => device(rest).map(AudioIn::Device),
            _ => Err(SpecError::Unknown {
                what: "input",
                spec: s.to_string(),
            }),
        }
    }
}

impl FromStr for AudioOut {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<AudioOut, SpecError> {
        if s.trim().is_empty() {
            return Err(SpecError::Empty("output"));
        }
        match split(s) {
            (k, None) if k == "default" => Ok(AudioOut::Default),
            (k, None) if k == "null" => Ok(AudioOut::Null),
            (k, rest) if k == "file" => path(rest).map(AudioOut::File),
            (k, rest) if k == "device" => device(rest).map(AudioOut::Device),
            _ => Err(SpecError::Unknown {
                what: "output",
                spec: s.to_string(),
            }),
        }
    }
}

impl fmt::Display for AudioIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AudioIn::Default => f.write_str("default"),
            AudioIn::Device(name) => write!(f, "device:{name}"),
            AudioIn::Tone(hz) => write!(f, "tone:{hz}"),
            AudioIn::File(p) => write!(f, "file:{}", p.display()),
            AudioIn::Null => f.write_str("null"),
        }
    }
}

impl fmt::Display for AudioOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AudioOut::Default => f.write_str("default"),
            AudioOut::Device(name) => write!(f, "device:{name}"),
            AudioOut::File(p) => write!(f, "file:{}", p.display()),
            AudioOut::Null => f.write_str("null"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_parse_and_print_back() {
        for (text, spec) in [
            ("default", AudioIn::Default),
            ("null", AudioIn::Null),
            ("tone:440", AudioIn::Tone(440.0)),
            ("tone:660.5", AudioIn::Tone(660.5)),
            ("file:a b/c.wav", AudioIn::File("a b/c.wav".into())),
            ("file:C:\\x.wav", AudioIn::File("C:\\x.wav".into())),
            (
                "device:USB Mic: front",
                AudioIn::Device("USB Mic: front".into()),
            ),
        ] {
            assert_eq!(text.parse::<AudioIn>().unwrap(), spec, "{text}");
            assert_eq!(spec.to_string().parse::<AudioIn>().unwrap(), spec);
        }
        assert_eq!(
            "TONE:440Hz".parse::<AudioIn>().unwrap(),
            AudioIn::Tone(440.0)
        );
        assert_eq!("Default".parse::<AudioIn>().unwrap(), AudioIn::Default);
    }

    #[test]
    fn outputs_parse_and_print_back() {
        for (text, spec) in [
            ("default", AudioOut::Default),
            ("null", AudioOut::Null),
            ("file:/tmp/mix.wav", AudioOut::File("/tmp/mix.wav".into())),
            ("device:hw:0,0", AudioOut::Device("hw:0,0".into())),
        ] {
            assert_eq!(text.parse::<AudioOut>().unwrap(), spec, "{text}");
            assert_eq!(spec.to_string().parse::<AudioOut>().unwrap(), spec);
        }
    }

    #[test]
    fn errors_say_what_was_expected() {
        let e = |s: &str| s.parse::<AudioIn>().unwrap_err().to_string();
        assert_eq!(
            e("mic"),
            "unknown audio input \"mic\"; expected tone:HZ, file:PATH.wav, null, default or device:NAME"
        );
        assert!(
            e("tone:abc").contains("\"abc\" is not a tone frequency"),
            "{}",
            e("tone:abc")
        );
        assert!(e("tone").contains("is not a tone frequency"));
        assert!(e("tone:5").contains("between 20 and 20000"));
        assert!(e("tone:30000").contains("between 20 and 20000"));
        assert_eq!(e("file:"), "\"file:\" needs a path (e.g. file:out.wav)");
        assert_eq!(
            e("device: "),
            "\"device:\" needs a device name (see /devices)"
        );
        assert!(e("").starts_with("empty audio input spec"));
        let o = |s: &str| s.parse::<AudioOut>().unwrap_err().to_string();
        assert_eq!(
            o("tone:440"),
            "unknown audio output \"tone:440\"; expected file:PATH.wav, null, default or device:NAME"
        );
        assert_eq!(o("file"), "\"file:\" needs a path (e.g. file:out.wav)");
        assert!(o(" ").starts_with("empty audio output spec"));
    }
}
