//! Finding Chromium and chromedriver, and the chromedriver process behind one `Browser`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// How long chromedriver may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Names tried on `PATH` when no override is set.
const CHROMIUM_NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];
const CHROMEDRIVER_NAMES: &[&str] = &["chromedriver"];

/// The browser and its driver, as found on this machine.
pub(super) struct Binaries {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl Binaries {
    /// `METADECK_TEST_CHROMIUM` / `METADECK_TEST_CHROMEDRIVER` when set, else the first match on
    /// `PATH`. `Err` says what is missing.
    pub fn find() -> Result<Self, String> {
        let chromium = locate("METADECK_TEST_CHROMIUM", CHROMIUM_NAMES);
        let chromedriver = locate("METADECK_TEST_CHROMEDRIVER", CHROMEDRIVER_NAMES);
        match (chromium, chromedriver) {
            (Ok(chromium), Ok(chromedriver)) => Ok(Self {
                chromium,
                chromedriver,
            }),
            (chromium, chromedriver) => Err([chromium.err(), chromedriver.err()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }
}

fn locate(var: &str, names: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(format!(
                "{var}={} is not an executable file",
                path.display()
            ))
        };
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| match names {
            [name] => format!("{name} not on PATH"),
            _ => format!("none of {} on PATH", names.join(", ")),
        })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// A running chromedriver, listening on a port of its own choosing on the loopback interface.
///
/// It runs in a process group of its own, which the Chromium it launches joins; dropping the
/// `Driver` kills the whole group, so no browser outlives its test, even when the test panics.
pub(super) struct Driver {
    child: Child,
    /// Set once the child has been waited for: its id may then belong to someone else.
    reaped: bool,
    port: u16,
    /// What chromedriver printed, for error messages.
    output: Arc<Mutex<Vec<String>>>,
}

/// How often chromedriver is started before giving up, when it exits at start.
const START_ATTEMPTS: u32 = 3;

/// Why one start of chromedriver failed.
enum Start {
    /// It exited before listening (its port was taken meanwhile): worth another try.
    ExitedEarly(String),
    /// Anything else.
    Failed(String),
}

impl Driver {
    /// Starts `chromedriver --port=0` and waits until it says which port it listens on.
    ///
    /// chromedriver picks its port, then binds it for IPv4 and IPv6 one after the other, and
    /// exits when another process took the port in between ("IPv4 port not available"); such
    /// an early exit is tried again, a few times.
    pub fn start(chromedriver: &Path) -> Result<Self, String> {
        let mut attempts = 1;
        loop {
            match Self::start_once(chromedriver) {
                Err(Start::ExitedEarly(error)) if attempts < START_ATTEMPTS => {
                    eprintln!("chromedriver exited at start, trying again: {error}");
                    attempts += 1;
                }
                Err(Start::ExitedEarly(error) | Start::Failed(error)) => return Err(error),
                Ok(driver) => return Ok(driver),
            }
        }
    }

    fn start_once(chromedriver: &Path) -> Result<Self, Start> {
        let mut cmd = Command::new(chromedriver);
        cmd.arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| Start::Failed(format!("cannot start {}: {e}", chromedriver.display())))?;

        let output = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        drain(stdout, Arc::clone(&output), Some(port_tx));
        drain(stderr, Arc::clone(&output), None);

        let mut driver = Self {
            child,
            reaped: false,
            port: 0,
            output,
        };
        match port_rx.recv_timeout(START_TIMEOUT) {
            Ok(port) => {
                driver.port = port;
                Ok(driver)
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Start::Failed(format!(
                "chromedriver did not report a port within {START_TIMEOUT:?}; it printed:\n{}",
                driver.output()
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = driver.child.wait().map(|s| s.to_string());
                driver.reaped = true;
                Err(Start::ExitedEarly(format!(
                    "{} stopped ({}) before listening; it printed:\n{}",
                    chromedriver.display(),
                    status.unwrap_or_else(|e| e.to_string()),
                    driver.output()
                )))
            }
        }
    }

    /// `http://127.0.0.1:PORT`, the WebDriver endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything chromedriver printed so far.
    pub fn output(&self) -> String {
        self.output
            .lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default()
    }

    /// A blocking WebDriver request with an optional JSON body, for `Drop`, where no async
    /// runtime can be relied on. Returns the HTTP status and the body.
    pub fn blocking_request(
        &self,
        method: &str,
        path: &str,
        json_body: Option<&str>,
        timeout: Duration,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let body = json_body.unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )?;
        // chromedriver keeps the connection open whatever the request says: read the head, then
        // exactly `Content-Length` bytes.
        let mut raw = Vec::new();
        let mut chunk = [0u8; 8192];
        let split = loop {
            if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::Error::other(
                    "the connection closed in the headers",
                ));
            }
            raw.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("no status line"))?;
        let length = head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse::<usize>().ok())
            .ok_or_else(|| std::io::Error::other("no Content-Length"))?;
        let mut body = raw.split_off(split + 4);
        if body.len() < length {
            let mut rest = vec![0u8; length - body.len()];
            stream.read_exact(&mut rest)?;
            body.extend_from_slice(&rest);
        }
        body.truncate(length);
        Ok((status, body))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        #[cfg(unix)]
        {
            // The child is not reaped before this, so its id (and with it the group id) cannot
            // have been reused: the signal reaches only chromedriver and the browser it started.
            let group = -(self.child.id() as libc::pid_t);
            // SAFETY: kill(2) with a negative pid signals that process group; no memory is shared.
            unsafe {
                libc::kill(group, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies a pipe's lines into `output` on a thread of its own (so chromedriver never blocks on
/// a full pipe); the first "… on port N." line sends N.
fn drain(
    pipe: impl Read + Send + 'static,
    output: Arc<Mutex<Vec<String>>>,
    port_tx: Option<mpsc::Sender<u16>>,
) {
    std::thread::spawn(move || {
        let mut port_tx = port_tx;
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Some(port) = port_tx.as_ref().and_then(|_| started_on_port(&line)) {
                let _ = port_tx.take().map(|tx| tx.send(port));
            }
            if let Ok(mut lines) = output.lock() {
                lines.push(line);
            }
        }
    });
}

/// `ChromeDriver was started successfully on port 41235.` → 41235.
fn started_on_port(line: &str) -> Option<u16> {
    let rest = line.split("started successfully on port ").nth(1)?;
    rest.trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()
}
