//! What an MCP server sends back, read with a bound: a JSON body or a `text/event-stream`
//! (streamable HTTP answers either), never more than the check's byte budget, and the
//! JSON-RPC reply inside it.

use serde_json::Value;

/// Most bytes one check reads from a server, over all its answers.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Why a check failed: the server could not be reached, or it answered wrongly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `unreachable` (no answer: connection, timeout) or `error` (a wrong answer).
    pub kind: FailureKind,
    /// What happened, for a person.
    pub reason: String,
}

/// The two ways a check fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Unreachable,
    Error,
}

impl FailureKind {
    /// The `last_status` it leads to.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unreachable => "unreachable",
            Self::Error => "error",
        }
    }
}

impl Failure {
    /// No answer came.
    pub fn unreachable(reason: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Unreachable,
            reason: reason.into(),
        }
    }

    /// An answer came, but not one an MCP server gives.
    pub fn error(reason: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Error,
            reason: reason.into(),
        }
    }
}

/// The bytes a check may still read.
#[derive(Debug)]
pub struct Budget {
    left: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self { left: MAX_BYTES }
    }
}

impl Budget {
    /// Takes `n` bytes from the budget; a failure once it is spent.
    pub fn take(&mut self, n: usize) -> Result<(), Failure> {
        self.left = self.left.checked_sub(n).ok_or_else(|| {
            Failure::error(format!(
                "the server sent more than {} MiB (answers are read up to that size)",
                MAX_BYTES / (1024 * 1024)
            ))
        })?;
        Ok(())
    }
}

/// The reply with id `id` in one JSON-RPC message (or a batch of them); `None` when the
/// message is something else (a notification or a request from the server).
pub fn reply_in(message: &Value, id: i64) -> Option<&Value> {
    match message {
        Value::Array(batch) => batch.iter().find_map(|m| reply_in(m, id)),
        Value::Object(fields) => {
            let answers = fields.contains_key("result") || fields.contains_key("error");
            (answers && fields.get("id").and_then(Value::as_i64) == Some(id)).then_some(message)
        }
        _ => None,
    }
}

/// The `result` of a JSON-RPC reply to `method`; a JSON-RPC error or a reply without a
/// result object is a failure naming the method.
pub fn result_of(reply: &Value, method: &str) -> Result<Value, Failure> {
    if let Some(error) = reply.get("error") {
        let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(Failure::error(format!(
            "the server answered {method} with JSON-RPC error {code}: {}",
            clip(message)
        )));
    }
    match reply.get("result") {
        Some(result @ Value::Object(_)) => Ok(result.clone()),
        _ => Err(Failure::error(format!(
            "the server's reply to {method} has no result object"
        ))),
    }
}

/// Parses a whole JSON body and finds the reply with id `id` in it.
pub fn reply_from_json(body: &[u8], id: i64, method: &str) -> Result<Value, Failure> {
    let message: Value = serde_json::from_slice(body).map_err(|e| {
        Failure::error(format!(
            "the server's answer to {method} is not valid JSON ({e})"
        ))
    })?;
    reply_in(&message, id).cloned().ok_or_else(|| {
        Failure::error(format!(
            "the server's answer to {method} is not a JSON-RPC reply to it"
        ))
    })
}

/// Reads server-sent events as their bytes arrive and yields each event's data.
#[derive(Debug, Default)]
pub struct SseReader {
    /// Bytes of a line not yet complete.
    pending: Vec<u8>,
    /// The `data` lines of the event being read.
    data: Vec<String>,
    /// The event's type (`message` when none is given).
    event: String,
}

impl SseReader {
    /// Feeds `chunk`; returns the data of each `message` event it completes.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(chunk);
        let mut done = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = self.pending.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line).into_owned();
            if line.is_empty() {
                let data = std::mem::take(&mut self.data);
                let event = std::mem::take(&mut self.event);
                if !data.is_empty() && (event.is_empty() || event == "message") {
                    done.push(data.join("\n"));
                }
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f.to_string(), v.strip_prefix(' ').unwrap_or(v).to_string()),
                None => (line.clone(), String::new()),
            };
            match field.as_str() {
                "data" => self.data.push(value),
                "event" => self.event = value,
                _ => {}
            }
        }
        done
    }
}

/// The reply with id `id` among the data of SSE events, if one of them holds it.
pub fn reply_from_events(
    events: &[String],
    id: i64,
    method: &str,
) -> Result<Option<Value>, Failure> {
    for data in events {
        let message: Value = serde_json::from_str(data).map_err(|e| {
            Failure::error(format!(
                "an event the server sent while answering {method} is not valid JSON ({e})"
            ))
        })?;
        if let Some(reply) = reply_in(&message, id) {
            return Ok(Some(reply.clone()));
        }
    }
    Ok(None)
}

/// At most 200 characters of text a server sent, for a reason shown to people.
pub fn clip(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_split_across_chunks_are_put_back_together() {
        let mut sse = SseReader::default();
        assert!(
            sse.feed(b"event: message\r\ndata: {\"jsonrpc\":")
                .is_empty()
        );
        assert!(sse.feed(b"\"2.0\",\"id\":1,").is_empty());
        let done = sse.feed(b"\"result\":{}}\r\n\r\n: ping\n\nevent: other\ndata: x\n\n");
        assert_eq!(
            done,
            vec![r#"{"jsonrpc":"2.0","id":1,"result":{}}"#.to_string()]
        );
        let reply = reply_from_events(&done, 1, "initialize").unwrap().unwrap();
        assert_eq!(result_of(&reply, "initialize").unwrap(), json!({}));
    }

    #[test]
    fn only_the_reply_with_the_asked_id_counts() {
        let note = json!({"jsonrpc": "2.0", "method": "notifications/progress"});
        let other = json!({"jsonrpc": "2.0", "id": 7, "result": {}});
        assert!(reply_in(&note, 1).is_none());
        assert!(reply_in(&other, 1).is_none());
        assert!(reply_in(&json!([note, other]), 7).is_some());
    }

    #[test]
    fn a_json_rpc_error_or_bad_json_is_a_failure_with_a_reason() {
        let reply =
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "nope"}});
        let failure = result_of(&reply, "tools/list").unwrap_err();
        assert_eq!(failure.kind, FailureKind::Error);
        assert!(failure.reason.contains("-32601") && failure.reason.contains("nope"));
        assert!(
            reply_from_json(b"{not json", 1, "initialize")
                .unwrap_err()
                .reason
                .contains("not valid JSON")
        );
    }

    #[test]
    fn the_budget_refuses_the_byte_past_four_mebibytes() {
        let mut budget = Budget::default();
        budget.take(MAX_BYTES - 1).unwrap();
        budget.take(1).unwrap();
        assert!(budget.take(1).unwrap_err().reason.contains("4 MiB"));
    }
}
