//! A private desktop for the notification tests: Xvfb, a session D-Bus
//! of its own and dunst, a real freedesktop notification server, which
//! runs a script for every notification it shows: the script writes
//! `APPNAME \t SUMMARY \t BODY` lines to a log the test reads.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Desktop {
    children: Vec<Child>,
    /// `DBUS_SESSION_BUS_ADDRESS` of the private bus.
    pub bus_address: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

fn spawn_reading_line(cmd: &mut Command, what: &str) -> (Child, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{what} does not start ({e}): scripts/ensure-deps test installs it")
        });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(!line.trim().is_empty(), "{what} printed nothing");
    (child, line.trim().to_string())
}

impl Desktop {
    pub fn start() -> Desktop {
        let dir = tempfile::tempdir().unwrap();
        // Xvfb picks a free display and prints its number.
        let (xvfb, display) = spawn_reading_line(
            Command::new("Xvfb").args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "640x480x24",
            ]),
            "Xvfb",
        );
        // A bus of its own: nothing activated behind our back (no
        // service directories), anyone may own a name on it.
        let socket = dir.path().join("bus");
        let bus_config = dir.path().join("bus.conf");
        std::fs::write(
            &bus_config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"
 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">
<busconfig><type>session</type><listen>unix:path={}</listen><auth>EXTERNAL</auth>
<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>
<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>
</busconfig>\n",
                socket.display()
            ),
        )
        .unwrap();
        let (bus, bus_address) = spawn_reading_line(
            Command::new("dbus-daemon")
                .args(["--nofork", "--print-address=1"])
                .arg(format!("--config-file={}", bus_config.display())),
            "dbus-daemon",
        );
        let log = dir.path().join("shown.log");
        let script = dir.path().join("shown.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\t%s\\t%s\\n' \"$1\" \"$2\" \"$3\" >> '{}'\n",
                log.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let config = dir.path().join("dunstrc");
        std::fs::write(
            &config,
            format!(
                "[global]\nmarkup = no\n\n[log]\nappname = \"*\"\nscript = \"{}\"\n",
                script.display()
            ),
        )
        .unwrap();
        let dunst = Command::new("dunst")
            .arg("-config")
            .arg(&config)
            .env("DISPLAY", format!(":{display}"))
            .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst starts: scripts/ensure-deps test installs it");
        let desktop = Desktop {
            children: vec![dunst, bus, xvfb],
            bus_address,
            log,
            _dir: dir,
        };
        // Up when it answers on the bus.
        let until = Instant::now() + Duration::from_secs(20);
        while !Command::new("dunstctl")
            .args(["count", "displayed"])
            .env("DBUS_SESSION_BUS_ADDRESS", &desktop.bus_address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            assert!(Instant::now() < until, "dunst did not come up on the bus");
            std::thread::sleep(Duration::from_millis(100));
        }
        desktop
    }

    /// What the server showed so far: (appname, summary, body).
    pub fn shown(&self) -> Vec<(String, String, String)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut p = l.splitn(3, '\t');
                Some((p.next()?.into(), p.next()?.into(), p.next()?.into()))
            })
            .collect()
    }

    /// Waits until the server showed a notification that `pred` accepts;
    /// returns all it showed.
    pub fn wait_shown(
        &self,
        what: &str,
        pred: impl Fn(&(String, String, String)) -> bool,
    ) -> Vec<(String, String, String)> {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let all = self.shown();
            if all.iter().any(&pred) {
                return all;
            }
            assert!(
                Instant::now() < until,
                "the desktop never showed {what}: {all:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
