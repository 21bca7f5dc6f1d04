//! systemd's readiness protocol (`Type=notify`): one datagram of `KEY=VALUE` lines on the
//! Unix socket named by `$NOTIFY_SOCKET`. Written here in a few lines with std's
//! `UnixDatagram` rather than through a crate: the protocol is two messages, and sending
//! them needs nothing but the socket.

use std::os::unix::net::UnixDatagram;

/// The unit may consider the mount started (after it serves).
pub fn ready() {
    send(&format!("READY=1\nMAINPID={}", std::process::id()));
}

/// The unit is stopping (an unmount is under way).
pub fn stopping() {
    send("STOPPING=1");
}

/// Sends `message` when systemd asked for notices; a failure is logged, never fatal (the
/// mount works whether or not systemd heard).
fn send(message: &str) {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    if let Err(error) = send_to(&socket.to_string_lossy(), message) {
        tracing::warn!(%error, "cannot notify systemd ({message})");
    }
}

/// `path` is a file system path, or `@name` for an abstract socket (as systemd writes it).
pub fn send_to(path: &str, message: &str) -> std::io::Result<()> {
    let socket = UnixDatagram::unbound()?;
    // A receiver that does not read must not stall the mount: a full queue is an error.
    socket.set_nonblocking(true)?;
    if let Some(name) = path.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        socket.send_to_addr(message.as_bytes(), &address)?;
    } else {
        socket.send_to(message.as_bytes(), path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_arrives_as_one_datagram_on_a_path_or_abstract_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        send_to(path.to_str().unwrap(), "READY=1").unwrap();
        let mut buffer = [0; 64];
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"READY=1");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("sfmount-test-{}", std::process::id());
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&address).unwrap();
        send_to(&format!("@{name}"), "STOPPING=1").unwrap();
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"STOPPING=1");
    }
}
