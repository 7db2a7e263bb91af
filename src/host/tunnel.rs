//! Port forwards: a local TCP port or unix socket that reaches an address or a unix socket on
//! a host. Over SSH it is the ControlMaster's forward; on the local host a small proxy.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use crate::error::{Error, Result};

/// Where the tunnel ends on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardTarget {
    Tcp { host: String, port: u16 },
    Unix(String),
}

impl ForwardTarget {
    /// `"addr:port"`, `":port"`/`"port"` (= 127.0.0.1) or `"/path/to.sock"`.
    pub fn parse(text: &str) -> Result<Self> {
        if text.starts_with('/') {
            return Ok(ForwardTarget::Unix(text.to_string()));
        }
        let (host, port) = match text.rsplit_once(':') {
            Some((h, p)) => (h.trim_start_matches('[').trim_end_matches(']'), p),
            None => ("", text),
        };
        let port = port.parse::<u16>().map_err(|_| {
            Error::usage(format!(
                "forward target `{text}`: write \"addr:port\" or \"/remote.sock\""
            ))
        })?;
        let host = if host.is_empty() { "127.0.0.1" } else { host };
        Ok(ForwardTarget::Tcp {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for ForwardTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardTarget::Tcp { host, port } => write!(f, "{host}:{port}"),
            ForwardTarget::Unix(p) => f.write_str(p),
        }
    }
}

/// The local end of a tunnel.
#[derive(Debug, Clone)]
pub enum LocalEnd {
    /// 127.0.0.1:port; 0 picks a free port.
    Tcp(u16),
    Unix(PathBuf),
}

pub type Closer = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// An open forward. Closed by [`Tunnel::close`] (or left open until the run ends).
pub struct Tunnel {
    port: Option<u16>,
    socket: Option<PathBuf>,
    target: ForwardTarget,
    closer: Option<Closer>,
    _dir: Option<tempfile::TempDir>,
}

impl fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tunnel({} -> {})", self.local(), self.target)
    }
}

impl Tunnel {
    pub fn new(
        port: Option<u16>,
        socket: Option<PathBuf>,
        target: ForwardTarget,
        closer: Closer,
    ) -> Self {
        Tunnel {
            port,
            socket,
            target,
            closer: Some(closer),
            _dir: None,
        }
    }
    pub(crate) fn keep_dir(&mut self, dir: tempfile::TempDir) {
        self._dir = Some(dir);
    }
    /// The local TCP port (for TCP tunnels).
    pub fn port(&self) -> Option<u16> {
        self.port
    }
    /// The local unix socket (for socket tunnels).
    pub fn socket_path(&self) -> Option<&std::path::Path> {
        self.socket.as_deref()
    }
    pub fn target(&self) -> &ForwardTarget {
        &self.target
    }
    pub fn local(&self) -> String {
        match (&self.port, &self.socket) {
            (Some(p), _) => format!("127.0.0.1:{p}"),
            (None, Some(s)) => s.display().to_string(),
            _ => "?".into(),
        }
    }
    pub fn is_open(&self) -> bool {
        self.closer.is_some()
    }
    pub async fn close(&mut self) {
        if let Some(c) = self.closer.take() {
            c().await;
        }
    }
}

/// Ask the kernel for a free loopback port.
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// The local host's forward: accept on the local end and splice each connection to target.
pub async fn proxy(local: LocalEnd, target: ForwardTarget) -> Result<Tunnel> {
    use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
    async fn splice<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
        mut inbound: S,
        target: ForwardTarget,
    ) {
        match target {
            ForwardTarget::Tcp { host, port } => {
                if let Ok(mut out) = TcpStream::connect((host.as_str(), port)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                }
            }
            ForwardTarget::Unix(p) => {
                if let Ok(mut out) = UnixStream::connect(&p).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                }
            }
        }
    }
    let t = target.clone();
    let (task, port, socket) = match local {
        LocalEnd::Tcp(p) => {
            let l = TcpListener::bind(("127.0.0.1", p)).await?;
            let port = l.local_addr()?.port();
            let task = tokio::spawn(async move {
                while let Ok((s, _)) = l.accept().await {
                    tokio::spawn(splice(s, t.clone()));
                }
            });
            (task, Some(port), None)
        }
        LocalEnd::Unix(path) => {
            let l = UnixListener::bind(&path)?;
            let task = tokio::spawn(async move {
                while let Ok((s, _)) = l.accept().await {
                    tokio::spawn(splice(s, t.clone()));
                }
            });
            (task, None, Some(path))
        }
    };
    let closer: Closer = Box::new(move || {
        Box::pin(async move {
            task.abort();
        })
    });
    Ok(Tunnel::new(port, socket, target, closer))
}
