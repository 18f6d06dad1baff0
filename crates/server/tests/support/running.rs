//! The web server running on a loopback port, as `tenure serve` runs it.

#![allow(dead_code, unreachable_pub)]

use server::AppState;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A server task and the URL it answers on.
pub struct RunningServer {
    pub url: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Serves `make_state(url)` on 127.0.0.1 with a port the system picks.
    pub async fn start(make_state: impl FnOnce(&str) -> AppState) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding the web server");
        let url = url_of(&listener);
        let state = make_state(&url);
        Self::start_on(listener, state)
    }

    /// Serves `state` on a listener bound earlier (when the URL had to be known first).
    pub fn start_on(listener: TcpListener, state: AppState) -> Self {
        let url = url_of(&listener);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Self { url, stop, task }
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the server task").expect("the server");
    }
}

/// `http://127.0.0.1:PORT` of a bound listener.
pub fn url_of(listener: &TcpListener) -> String {
    format!("http://{}", listener.local_addr().expect("its address"))
}
