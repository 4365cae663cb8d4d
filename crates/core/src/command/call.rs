//! The commands of calls (XEP-0521 conferences, XEP-0353/XEP-0167
//! one-to-one): call, answer, reject, hangup, mute, unmute, deafen,
//! undeafen, devices (and switching them), denoise, callconfig, record — each command's table entry and its
//! builder.

use super::Command;
use super::parse::{Args, ParseError};
use super::table::{ArgKind, CommandSpec, arg, opt_arg};

pub const CALL: CommandSpec = CommandSpec {
    name: "call",
    aliases: &[],
    usage: "/call ROOM|USER",
    help: "Join the voice conference ROOM of an A/V service (XEP-0521) with your microphone; \
           a text room: its conference of the same name at call_service; a USER (their \
           server says it is an account): ring them for a one-to-one call (XEP-0353)",
    args: &[arg("ROOM|USER", ArgKind::Room)],
    options: &[],
    forms: &[],
    build: call,
};

pub const ANSWER: CommandSpec = CommandSpec {
    name: "answer",
    aliases: &[],
    usage: "/answer",
    help: "Take the one-to-one call that is ringing",
    args: &[],
    options: &[],
    forms: &[],
    build: answer,
};

pub const REJECT: CommandSpec = CommandSpec {
    name: "reject",
    aliases: &[],
    usage: "/reject",
    help: "Decline the one-to-one call that is ringing",
    args: &[],
    options: &[],
    forms: &[],
    build: reject,
};

pub const HANGUP: CommandSpec = CommandSpec {
    name: "hangup",
    aliases: &[],
    usage: "/hangup",
    help: "Leave the call (ringing: call it off)",
    args: &[],
    options: &[],
    forms: &[],
    build: hangup,
};

pub const MUTE: CommandSpec = CommandSpec {
    name: "mute",
    aliases: &[],
    usage: "/mute",
    help: "Stop sending your microphone in the call",
    args: &[],
    options: &[],
    forms: &[],
    build: mute,
};

pub const UNMUTE: CommandSpec = CommandSpec {
    name: "unmute",
    aliases: &[],
    usage: "/unmute",
    help: "Send your microphone again",
    args: &[],
    options: &[],
    forms: &[],
    build: unmute,
};

pub const DEAFEN: CommandSpec = CommandSpec {
    name: "deafen",
    aliases: &[],
    usage: "/deafen",
    help: "Stop playing the others in the call (they still hear you unless muted)",
    args: &[],
    options: &[],
    forms: &[],
    build: deafen,
};

pub const UNDEAFEN: CommandSpec = CommandSpec {
    name: "undeafen",
    aliases: &[],
    usage: "/undeafen",
    help: "Play the others in the call again",
    args: &[],
    options: &[],
    forms: &[],
    build: undeafen,
};

pub const DEVICES: CommandSpec = CommandSpec {
    name: "devices",
    aliases: &[],
    usage: "/devices [input|output SPEC]",
    help: "List the audio input and output devices; /devices input SPEC (tone:HZ, \
           file:PATH.wav, null, default or device:NAME) or /devices output SPEC \
           (file:PATH.wav, null, default or device:NAME) switches the microphone or the \
           speaker, in the call without hanging up and for the next calls",
    args: &[
        opt_arg("input|output", ArgKind::Choice(DEVICE_SIDES)),
        opt_arg("SPEC", ArgKind::Rest),
    ],
    options: &[],
    forms: &[],
    build: devices,
};

/// What `/devices` can switch.
pub const DEVICE_SIDES: &[&str] = &["input", "output"];

pub const DENOISE: CommandSpec = CommandSpec {
    name: "denoise",
    aliases: &[],
    usage: "/denoise auto|on|gate|off",
    help: "Noise suppression of what you send (RNNoise): auto (the default) cleans a \
           microphone, on cleans any source, gate also sends silence while you do not \
           speak, off sends the input as it is; for this call and the next",
    args: &[arg("auto|on|gate|off", ArgKind::Choice(DENOISE_MODES))],
    options: &[],
    forms: &[],
    build: denoise,
};

/// The modes of `/denoise`.
pub const DENOISE_MODES: &[&str] = &["auto", "on", "gate", "off"];

pub const RECORD: CommandSpec = CommandSpec {
    name: "record",
    aliases: &[],
    usage: "/record [DIR|stop]",
    help: "Record the call as Ogg Opus files in DIR (default: a new folder under the \
           recordings folder of the data directory): one per speaker, as received, and \
           the mix; /record stop finishes them",
    args: &[opt_arg("DIR|stop", ArgKind::Word)],
    options: &[],
    forms: &[],
    build: record,
};

pub const CALLCONFIG: CommandSpec = CommandSpec {
    name: "callconfig",
    aliases: &[],
    usage: "/callconfig ROOM [FIELD=VALUE ...]",
    help: "Show an A/V conference's options (XEP-0050 ad-hoc), or set fields of them",
    args: &[
        arg("ROOM", ArgKind::Room),
        opt_arg("FIELD=VALUE ...", ArgKind::KeyValues),
    ],
    options: &[],
    forms: &[],
    build: callconfig,
};

fn call(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Call { room: a.room() })
}

fn answer(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::AnswerCall)
}

fn reject(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::RejectCall)
}

fn hangup(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Hangup)
}

fn mute(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Mute)
}

fn unmute(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Unmute)
}

fn deafen(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Deafen)
}

fn undeafen(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Undeafen)
}

fn devices(a: &mut Args) -> Result<Command, ParseError> {
    let Some((side, at)) = a.text_at() else {
        return Ok(Command::Devices);
    };
    match a.text() {
        Some(spec) => Ok(Command::SwitchDevice {
            output: side == "output",
            spec,
        }),
        None => {
            let column = at + side.len() + 1;
            Err(a.error(
                column,
                format_args!("expected SPEC at column {column}, e.g. /devices {side} default"),
            ))
        }
    }
}

fn denoise(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Denoise { mode: a.word() })
}

fn record(a: &mut Args) -> Result<Command, ParseError> {
    Ok(match a.text() {
        Some(w) if w == "stop" => Command::RecordStop,
        dir => Command::Record { dir },
    })
}

fn callconfig(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::CallConfig {
        room: a.room(),
        fields: a.fields(),
    })
}
