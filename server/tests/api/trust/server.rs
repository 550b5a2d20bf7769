//! The HTTP server's own limits: a client that never finishes its headers is cut off, and
//! connections over the cap are refused instead of being held.

use std::{net::SocketAddr, time::Duration};

use axum::{routing::get, Router};
use idv_server::{ConnLimits, Server};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A server with `limits` in front of a trivial route; stops when the guard drops.
async fn serve(limits: ConnLimits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let router = Router::new().route("/", get(|| async { "ok" }));
    let server = Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)), router)
        .await
        .unwrap()
        .with_limits(limits);
    let addr = server.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    (addr, tx)
}

/// Reads until the server closes the connection (EOF or reset), bounded by `within`; returns
/// what was read, or `None` if the connection was still open at the end.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test]
async fn slowloris_connection_with_partial_headers_is_closed_after_the_header_timeout() {
    let (addr, _stop) = serve(ConnLimits {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 16,
        max_per_peer: 0,
    })
    .await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    // The server gives up on the headers after 1 s; 30 s is only the test's own bound.
    let answer = read_until_closed(&mut slow, Duration::from_secs(30)).await;
    let answer = answer.expect("the server closed the slow connection");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "no request was served: {answer:?}"
    );
    // A client that sends its headers in time is still served.
    let mut ok = TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut ok, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn connections_over_the_cap_are_refused_at_once_and_served_again_when_slots_free() {
    let (addr, _stop) = serve(ConnLimits {
        header_read_timeout: Duration::from_secs(600),
        max_connections: 2,
        max_per_peer: 0,
    })
    .await;
    // Two idle connections take both slots (each started a request, so the server holds them).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    // Give the server time to accept both (generous; only the next step depends on it).
    let mut refused = None;
    for _ in 0..100 {
        let mut extra = TcpStream::connect(addr).await.unwrap();
        let _ = extra
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await;
        let answer = read_until_closed(&mut extra, Duration::from_secs(30))
            .await
            .expect("a connection over the cap is not held open");
        if !answer.starts_with("HTTP/1.1 200") {
            refused = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.expect("a third connection is refused while two are held");
    assert!(
        refused.is_empty() || refused.starts_with("HTTP/1.1 503"),
        "{refused}"
    );
    if !refused.is_empty() {
        assert!(refused.contains("\"error\":\"unavailable\""), "{refused}");
    }
    // Freeing the slots lets new connections in again.
    drop(held);
    let mut served = false;
    for _ in 0..200 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let _ = s
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await;
        let answer = read_until_closed(&mut s, Duration::from_secs(30)).await;
        if answer.is_some_and(|a| a.starts_with("HTTP/1.1 200")) {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        served,
        "connections are served again once the held ones close"
    );
}

/// A connection from `ip` (a loopback address of its own) that has started a request.
async fn held_from(ip: [u8; 4], addr: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((ip, 0))).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    s
}

/// What a new connection from `ip` is answered with.
async fn answer_from(ip: [u8; 4], addr: SocketAddr) -> String {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((ip, 0))).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    let _ = s
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await;
    read_until_closed(&mut s, Duration::from_secs(30))
        .await
        .expect("the server answers and closes")
}

#[tokio::test]
async fn one_client_cannot_take_every_slot_others_are_still_served() {
    let (addr, _stop) = serve(ConnLimits {
        header_read_timeout: Duration::from_secs(600),
        max_connections: 16,
        max_per_peer: 3,
    })
    .await;
    // One client holds its three connections (requests started, never finished).
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(held_from([127, 0, 0, 2], addr).await);
    }
    // Its fourth is refused at once, whenever the server has taken in the three.
    let mut refused = None;
    for _ in 0..100 {
        let answer = answer_from([127, 0, 0, 2], addr).await;
        if !answer.starts_with("HTTP/1.1 200") {
            refused = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.expect("a fourth connection from the same client is refused");
    assert!(
        refused.is_empty() || refused.starts_with("HTTP/1.1 503"),
        "{refused}"
    );
    // Another client is served meanwhile, with slots to spare in all.
    let other = answer_from([127, 0, 0, 3], addr).await;
    assert!(other.starts_with("HTTP/1.1 200"), "{other}");
    // When the first client lets go, it is served again.
    drop(held);
    let mut served = false;
    for _ in 0..200 {
        if answer_from([127, 0, 0, 2], addr)
            .await
            .starts_with("HTTP/1.1 200")
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "served again once its connections closed");
}
