//! The accept loop: one listening socket serves both HTTPS and plain HTTP (the first byte of a connection
//! tells a TLS handshake apart), HTTP/1.1 and HTTP/2, until shutdown.

use std::net::SocketAddr;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// How a connection reached the sandbox.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionInfo {
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The peer's address.
    pub peer: SocketAddr,
}

/// Accepts connections until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: std::sync::Arc<rustls::ServerConfig>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(error = %error, "Accepting a connection failed.");
                continue;
            }
        };
        let app = app.clone();
        let acceptor = acceptor.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move { serve_connection(stream, peer, app, acceptor, shutdown).await });
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    acceptor: tokio_rustls::TlsAcceptor,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let mut first = [0_u8; 1];
    let is_tls = matches!(stream.peek(&mut first).await, Ok(1) if first[0] == 0x16);
    let scheme = if is_tls { "https" } else { "http" };
    let info = ConnectionInfo { scheme, peer };
    let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(info);
        app.clone().oneshot(request)
    });
    let builder = Builder::new(TokioExecutor::new());
    if is_tls {
        let tls_stream = match acceptor.accept(stream).await {
            Ok(tls_stream) => tls_stream,
            Err(error) => {
                tracing::debug!(error = %error, peer = %peer, "TLS handshake failed.");
                return;
            }
        };
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(tls_stream), service);
        tokio::select! {
            _ = connection => {}
            _ = shutdown.changed() => {}
        }
    } else {
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        tokio::select! {
            _ = connection => {}
            _ = shutdown.changed() => {}
        }
    }
}
