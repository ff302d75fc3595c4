//! Servers written in the test: each accepts connections on a loopback port and answers
//! every HTTP request through a handler given the request's JSON body and headers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the fake server read it.
pub struct Request {
    /// Header lines, names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl Request {
    /// The value of the header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC method asked for.
    pub fn method(&self) -> &str {
        self.body["method"].as_str().unwrap_or_default()
    }
}

/// What a handler does with a request: writes an answer (or never does) on the stream.
pub type Handler =
    Arc<dyn Fn(Request, TcpStream) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Starts a server on a free loopback port; answers its base URL. It lives as long as the
/// test's runtime.
pub async fn serve(handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut stream = stream;
                if let Some(request) = read_request(&mut stream).await {
                    handler(request, stream).await;
                }
            });
        }
    });
    url
}

/// Reads one request's head and JSON body.
async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..]).unwrap_or_default();
    Some(Request { headers, body })
}

/// Writes a complete answer.
pub async fn respond(mut stream: TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}

/// Writes a JSON-RPC result for `request` as a JSON body, with extra headers.
pub async fn reply(
    stream: TcpStream,
    request: &Request,
    result: serde_json::Value,
    headers: &[(&str, &str)],
) {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": request.body["id"], "result": result});
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    respond(stream, "200 OK", &all, body.to_string().as_bytes()).await;
}

/// The `initialize` result of a well-behaved server.
pub fn initialize_result() -> serde_json::Value {
    serde_json::json!({
        "protocolVersion": "2025-06-18",
        "capabilities": {"tools": {}},
        "serverInfo": {"name": "fake", "version": "0.1"},
    })
}

/// Writes the head of a streamed answer (no length: the body goes on until the writer stops).
pub async fn stream_head(stream: &mut TcpStream, content_type: &str) -> std::io::Result<()> {
    stream
        .write_all(
            format!("HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
}
