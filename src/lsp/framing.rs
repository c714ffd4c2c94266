//! The Language Server Protocol's framing over a byte stream: `Content-Length`
//! headers, then a JSON body. A body that is not JSON is reported to the
//! caller, who answers it, and reading goes on: one bad message never ends
//! the session.

use std::io::{BufRead, Write};

/// The largest message accepted (a body this large is skipped and refused).
pub const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// What reading one message gave.
pub enum Frame {
    /// A JSON message.
    Message(serde_json::Value),
    /// A body that is not JSON (or too large), with why.
    Malformed(String),
    /// The stream ended.
    Closed,
}

/// Reads the next message from `input`.
pub fn read(input: &mut impl BufRead) -> std::io::Result<Frame> {
    let mut length: Option<usize> = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(Frame::Closed);
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let length = length.unwrap_or(0);
    if length > MAX_MESSAGE {
        let mut skipped = std::io::Read::take(&mut *input, length as u64);
        std::io::copy(&mut skipped, &mut std::io::sink())?;
        return Ok(Frame::Malformed(format!("a message of {length} bytes is over the limit of {MAX_MESSAGE}")));
    }
    let mut body = vec![0u8; length];
    input.read_exact(&mut body)?;
    Ok(match serde_json::from_slice(&body) {
        Ok(value) => Frame::Message(value),
        Err(e) => Frame::Malformed(e.to_string()),
    })
}

/// Writes `message` to `output`, framed.
pub fn write(output: &mut impl Write, message: &serde_json::Value) -> std::io::Result<()> {
    let body = message.to_string();
    write!(output, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    output.flush()
}
