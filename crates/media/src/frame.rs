//! What a source of sent audio is: the trait that the synthetic sources
//! ([`super::source`]) and the microphone ([`super::device`]) implement, so
//! that neither of those modules needs the other's.

use super::MediaError;

/// A producer of 20 ms frames.
pub trait FrameSource: Send {
    /// Fills `out` (960 samples) with the next frame.
    fn next_frame(&mut self, out: &mut [f32]) -> Result<(), MediaError>;

    /// Whether the caller must pace this source with a 20 ms timer (true for
    /// synthetic sources; a device paces itself).
    fn needs_pacing(&self) -> bool {
        true
    }

    /// Whether this is a live input (a microphone), which noise
    /// suppression is for by default.
    fn is_live(&self) -> bool {
        false
    }

    /// What this source is, for logs and `/devices`.
    fn describe(&self) -> String;
}
