//! Level meter (RMS → dBFS → 0..1) and a speaking detector with hysteresis
//! (the store throttles the level reports to a few per second).

/// dBFS reported for digital silence.
pub const FLOOR_DBFS: f32 = -100.0;
/// The meter's range: −60 dBFS shows as 0, 0 dBFS as 1.
pub const METER_RANGE_DB: f32 = 60.0;

/// Root mean square of a frame.
pub fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    (sum / samples.len() as f64).sqrt() as f32
}

/// RMS in dB relative to full scale (a full-scale square wave is 0 dBFS,
/// a full-scale sine −3 dBFS); [`FLOOR_DBFS`] for silence.
pub fn dbfs(rms: f32) -> f32 {
    if rms <= 0.0 {
        FLOOR_DBFS
    } else {
        (20.0 * rms.log10()).max(FLOOR_DBFS)
    }
}

/// dBFS onto the meter's 0..1 scale.
pub fn meter_level(dbfs: f32) -> f32 {
    ((dbfs + METER_RANGE_DB) / METER_RANGE_DB).clamp(0.0, 1.0)
}

/// A meter with fast attack and slow release (about 20 dB per second), fed
/// one 20 ms frame at a time.
#[derive(Debug, Clone)]
pub struct LevelMeter {
    level: f32,
    dbfs: f32,
}

impl Default for LevelMeter {
    fn default() -> LevelMeter {
        LevelMeter {
            level: 0.0,
            dbfs: FLOOR_DBFS,
        }
    }
}

/// How far the meter falls per 20 ms frame: 0.4 dB of its 60 dB range.
const RELEASE_PER_FRAME: f32 = 0.4 / METER_RANGE_DB;

impl LevelMeter {
    pub fn new() -> LevelMeter {
        LevelMeter::default()
    }

    /// Takes one frame; returns the meter level (0..1).
    pub fn update(&mut self, frame: &[f32]) -> f32 {
        self.dbfs = dbfs(rms(frame));
        let now = meter_level(self.dbfs);
        self.level = now.max(self.level - RELEASE_PER_FRAME);
        self.level
    }

    /// Back to silence at once.
    pub fn reset(&mut self) {
        *self = LevelMeter::default();
    }

    /// The smoothed level, 0..1.
    pub fn level(&self) -> f32 {
        self.level
    }

    /// The last frame's level in dBFS.
    pub fn dbfs(&self) -> f32 {
        self.dbfs
    }
}

/// Speaking or not, with hysteresis: on after 2 frames (40 ms) above
/// −40 dBFS, off after 15 frames (300 ms) below −50 dBFS.
#[derive(Debug, Clone)]
pub struct SpeakingDetector {
    on_dbfs: f32,
    off_dbfs: f32,
    attack_frames: u32,
    release_frames: u32,
    speaking: bool,
    run: u32,
}

impl Default for SpeakingDetector {
    fn default() -> SpeakingDetector {
        SpeakingDetector::new(-40.0, -50.0, 2, 15)
    }
}

impl SpeakingDetector {
    pub fn new(
        on_dbfs: f32,
        off_dbfs: f32,
        attack_frames: u32,
        release_frames: u32,
    ) -> SpeakingDetector {
        SpeakingDetector {
            on_dbfs,
            off_dbfs: off_dbfs.min(on_dbfs),
            attack_frames: attack_frames.max(1),
            release_frames: release_frames.max(1),
            speaking: false,
            run: 0,
        }
    }

    /// Takes one frame's dBFS; returns whether the stream is speaking now.
    pub fn update(&mut self, dbfs: f32) -> bool {
        let against = if self.speaking {
            dbfs < self.off_dbfs
        } else {
            dbfs > self.on_dbfs
        };
        if against {
            self.run += 1;
            let needed = if self.speaking {
                self.release_frames
            } else {
                self.attack_frames
            };
            if self.run >= needed {
                self.speaking = !self.speaking;
                self.run = 0;
            }
        } else {
            self.run = 0;
        }
        self.speaking
    }

    pub fn speaking(&self) -> bool {
        self.speaking
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FRAME_SAMPLES;
    use crate::source::{FrameSource, ToneSource};

    #[test]
    fn rms_and_dbfs_of_known_signals() {
        assert_eq!(rms(&[]), 0.0);
        assert_eq!(dbfs(0.0), FLOOR_DBFS);
        assert!((dbfs(rms(&[1.0, -1.0, 1.0, -1.0])) - 0.0).abs() < 1e-4);
        let mut tone = ToneSource::new(1000.0, 1.0);
        let mut frame = [0.0; FRAME_SAMPLES];
        tone.next_frame(&mut frame).unwrap();
        // A full-scale sine: RMS 1/√2, −3.01 dBFS.
        assert!((dbfs(rms(&frame)) + 3.01).abs() < 0.05);
        assert_eq!(meter_level(-60.0), 0.0);
        assert_eq!(meter_level(-90.0), 0.0);
        assert_eq!(meter_level(0.0), 1.0);
        assert!((meter_level(-30.0) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn meter_rises_at_once_and_falls_slowly() {
        let mut m = LevelMeter::new();
        let mut tone = ToneSource::new(440.0, 0.5);
        let mut frame = [0.0; FRAME_SAMPLES];
        tone.next_frame(&mut frame).unwrap();
        let loud = m.update(&frame);
        assert!((loud - meter_level(-9.03)).abs() < 0.01, "{loud}");
        let after_one = m.update(&[0.0; FRAME_SAMPLES]);
        assert!(after_one < loud && after_one > loud - 0.01);
        assert_eq!(m.dbfs(), FLOOR_DBFS);
        for _ in 0..200 {
            m.update(&[0.0; FRAME_SAMPLES]);
        }
        assert_eq!(m.level(), 0.0);
    }

    #[test]
    fn speaking_has_hysteresis() {
        let mut d = SpeakingDetector::default();
        assert!(!d.update(-20.0), "one loud frame is not speech yet");
        assert!(d.update(-20.0));
        // Between the thresholds: stays on.
        for _ in 0..100 {
            assert!(d.update(-45.0));
        }
        // A short pause does not end it; 15 quiet frames do.
        for _ in 0..14 {
            assert!(d.update(-70.0));
        }
        assert!(d.update(-20.0));
        for _ in 0..14 {
            assert!(d.update(-70.0));
        }
        assert!(!d.update(-70.0));
        // Between the thresholds: stays off.
        for _ in 0..10 {
            assert!(!d.update(-45.0));
        }
    }
}
