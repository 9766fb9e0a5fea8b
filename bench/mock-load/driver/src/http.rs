//! Reading one HTTP/1.1 response from the bytes received so far.
//!
//! [`parse_response`] is called again on the whole buffer after every read and says
//! either "need more bytes" or "here is the answer and how many bytes it took". Bodies
//! come framed by `Content-Length` (the stand-in) or `Transfer-Encoding: chunked`
//! (WireMock, unless its stub sets a Content-Length). The status line and the header
//! and trailer fields are read by `httparse`; the chunk framing is checked here.
//!
//! Every limit is bounded so that a broken or hostile answer ends in an error rather
//! than a wait: a head, a chunk-size line or a trailer section longer than its limit,
//! a body larger than [`MAX_BODY`], a chunk size that is not hexadecimal and chunk
//! data not followed by CRLF are errors as soon as the bytes that show it arrive.

use std::fmt;

/// Longest status line plus header section (and longest trailer section) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Longest chunk-size line (size, extensions, CRLF) accepted.
pub const MAX_CHUNK_LINE: usize = 4 * 1024;
/// Largest body accepted.
pub const MAX_BODY: u64 = 16 * 1024 * 1024;
/// Header (and trailer) fields read per message.
const MAX_FIELDS: usize = 64;

/// One complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The body after removing the chunk framing.
    pub body: Vec<u8>,
    /// The server said it closes the connection after this answer.
    pub close: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The bytes so far are a valid beginning; read more.
    Partial,
    /// A complete answer that took the first `used` bytes of the buffer.
    Done { answer: Answer, used: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    Head(httparse::Error),
    HeadTooLong,
    /// 1xx: never asked for (no `Expect` is sent).
    Interim(u16),
    BadContentLength,
    ConflictingContentLength,
    UnsupportedTransferEncoding(String),
    /// Both framings at once: RFC 9112 §6.3 says to treat it as an error.
    LengthAndChunked,
    /// Neither framing: a body delimited by closing the connection has no place in
    /// a keep-alive benchmark.
    NoFraming,
    BadChunkSize,
    ChunkLineTooLong,
    /// Chunk data not followed by CRLF.
    MissingChunkCrlf,
    Trailer(httparse::Error),
    TrailerTooLong,
    BodyTooLarge,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Head(e) => write!(f, "malformed response head: {e}"),
            HttpError::HeadTooLong => write!(f, "response head longer than {MAX_HEAD} bytes"),
            HttpError::Interim(c) => write!(f, "unexpected interim response {c}"),
            HttpError::BadContentLength => write!(f, "Content-Length is not a number"),
            HttpError::ConflictingContentLength => write!(f, "Content-Length values differ"),
            HttpError::UnsupportedTransferEncoding(te) => {
                write!(f, "Transfer-Encoding `{te}` (only chunked is read)")
            }
            HttpError::LengthAndChunked => {
                write!(f, "both Content-Length and Transfer-Encoding")
            }
            HttpError::NoFraming => {
                write!(f, "answer with neither Content-Length nor chunked framing")
            }
            HttpError::BadChunkSize => write!(f, "malformed chunk-size line"),
            HttpError::ChunkLineTooLong => {
                write!(f, "chunk-size line longer than {MAX_CHUNK_LINE} bytes")
            }
            HttpError::MissingChunkCrlf => write!(f, "chunk data not followed by CRLF"),
            HttpError::Trailer(e) => write!(f, "malformed trailer section: {e}"),
            HttpError::TrailerTooLong => write!(f, "trailer section longer than {MAX_HEAD} bytes"),
            HttpError::BodyTooLarge => write!(f, "body larger than {MAX_BODY} bytes"),
        }
    }
}

impl std::error::Error for HttpError {}

enum Framing {
    Length(usize),
    Chunked,
    Empty,
}

/// Reads one response from the start of `buf` (everything received so far).
pub fn parse_response(buf: &[u8]) -> Result<Parsed, HttpError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut resp = httparse::Response::new(&mut fields);
    let head_len = match resp.parse(buf).map_err(HttpError::Head)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial if buf.len() > MAX_HEAD => return Err(HttpError::HeadTooLong),
        httparse::Status::Partial => return Ok(Parsed::Partial),
    };
    if head_len > MAX_HEAD {
        return Err(HttpError::HeadTooLong);
    }
    let status = resp.code.unwrap_or(0);
    if (100..200).contains(&status) {
        return Err(HttpError::Interim(status));
    }
    let mut length: Option<u64> = None;
    let mut codings: Vec<String> = Vec::new();
    let mut close = resp.version == Some(0);
    for h in resp.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("");
        if h.name.eq_ignore_ascii_case("content-length") {
            // RFC 9110 §8.6: a list of identical values is one value.
            for v in value.split(',') {
                let v = v.trim();
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(HttpError::BadContentLength);
                }
                let n: u64 = v.parse().map_err(|_| HttpError::BadContentLength)?;
                match length {
                    Some(m) if m != n => return Err(HttpError::ConflictingContentLength),
                    _ => length = Some(n),
                }
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            codings.extend(
                value
                    .split(',')
                    .map(|c| c.trim().to_ascii_lowercase())
                    .filter(|c| !c.is_empty()),
            );
        } else if h.name.eq_ignore_ascii_case("connection") {
            for t in value.split(',').map(str::trim) {
                if t.eq_ignore_ascii_case("close") {
                    close = true;
                } else if t.eq_ignore_ascii_case("keep-alive") {
                    close = false;
                }
            }
        }
    }
    let framing = if status == 204 || status == 304 {
        Framing::Empty
    } else if !codings.is_empty() {
        if codings != ["chunked"] {
            return Err(HttpError::UnsupportedTransferEncoding(codings.join(", ")));
        }
        if length.is_some() {
            return Err(HttpError::LengthAndChunked);
        }
        Framing::Chunked
    } else if let Some(n) = length {
        if n > MAX_BODY {
            return Err(HttpError::BodyTooLarge);
        }
        Framing::Length(n as usize)
    } else {
        return Err(HttpError::NoFraming);
    };
    let (body, used) = match framing {
        Framing::Empty => (Vec::new(), head_len),
        Framing::Length(n) => {
            if buf.len() < head_len + n {
                return Ok(Parsed::Partial);
            }
            (buf[head_len..head_len + n].to_vec(), head_len + n)
        }
        Framing::Chunked => match dechunk(buf, head_len)? {
            Some(done) => done,
            None => return Ok(Parsed::Partial),
        },
    };
    Ok(Parsed::Done {
        answer: Answer {
            status,
            body,
            close,
        },
        used,
    })
}

/// Removes the chunk framing from `buf[start..]` (RFC 9112 §7.1): the body and the
/// end of the trailer section, or `None` while the bytes so far are a valid prefix.
fn dechunk(buf: &[u8], start: usize) -> Result<Option<(Vec<u8>, usize)>, HttpError> {
    let mut body = Vec::new();
    let mut p = start;
    loop {
        let rest = &buf[p..];
        let Some(first) = rest.first() else {
            return Ok(None);
        };
        // chunk-size = 1*HEXDIG: httparse would take an empty size as 0.
        if !first.is_ascii_hexdigit() {
            return Err(HttpError::BadChunkSize);
        }
        let (line, size) = match httparse::parse_chunk_size(rest) {
            Err(_) => return Err(HttpError::BadChunkSize),
            Ok(httparse::Status::Partial) if rest.len() >= MAX_CHUNK_LINE => {
                return Err(HttpError::ChunkLineTooLong)
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Ok(httparse::Status::Complete(c)) => c,
        };
        if line > MAX_CHUNK_LINE {
            return Err(HttpError::ChunkLineTooLong);
        }
        p += line;
        if size == 0 {
            // last-chunk, then the trailer section ending in an empty line.
            let rest = &buf[p..];
            let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
            return match httparse::parse_headers(rest, &mut fields).map_err(HttpError::Trailer)? {
                httparse::Status::Complete((n, _)) if n > MAX_HEAD => {
                    Err(HttpError::TrailerTooLong)
                }
                httparse::Status::Complete((n, _)) => Ok(Some((body, p + n))),
                httparse::Status::Partial if rest.len() > MAX_HEAD => {
                    Err(HttpError::TrailerTooLong)
                }
                httparse::Status::Partial => Ok(None),
            };
        }
        if body.len() as u64 + size > MAX_BODY {
            return Err(HttpError::BodyTooLarge);
        }
        let size = size as usize;
        let data_end = p + size;
        if buf.len() < data_end {
            return Ok(None);
        }
        // The CRLF after the data, checked byte by byte as it arrives.
        for (i, want) in [b'\r', b'\n'].into_iter().enumerate() {
            match buf.get(data_end + i) {
                None => return Ok(None),
                Some(&b) if b != want => return Err(HttpError::MissingChunkCrlf),
                Some(_) => {}
            }
        }
        body.extend_from_slice(&buf[p..data_end]);
        p = data_end + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(buf: &[u8]) -> (Answer, usize) {
        match parse_response(buf) {
            Ok(Parsed::Done { answer, used }) => (answer, used),
            other => panic!("expected a complete answer, got {other:?}"),
        }
    }

    /// Feeds `msg` as a client would see it with a read ending at every byte
    /// boundary: each proper prefix must ask for more, the whole message must give
    /// the answer and use every byte.
    fn every_split(msg: &[u8]) -> Answer {
        for i in 0..msg.len() {
            assert_eq!(
                parse_response(&msg[..i]),
                Ok(Parsed::Partial),
                "prefix of {i} bytes of {:?}",
                String::from_utf8_lossy(msg)
            );
        }
        let (a, used) = done(msg);
        assert_eq!(used, msg.len());
        a
    }

    /// A malformed message: no prefix is ever complete, and once the whole message
    /// is there the answer is `err` (never "read more", which would wait forever).
    fn fails_at_every_split(msg: &[u8], err: HttpError) {
        for i in 0..msg.len() {
            match parse_response(&msg[..i]) {
                Ok(Parsed::Partial) => {}
                Err(e) => assert_eq!(e, err, "prefix of {i} bytes"),
                Ok(Parsed::Done { .. }) => panic!("prefix of {i} bytes parsed as complete"),
            }
        }
        assert_eq!(parse_response(msg), Err(err));
    }

    const SOAP: &str =
        "<soap:Envelope><soap:Body><ns:tx-id>1</ns:tx-id></soap:Body></soap:Envelope>";

    #[test]
    fn content_length_at_every_split() {
        let msg = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{SOAP}",
            SOAP.len()
        );
        let a = every_split(msg.as_bytes());
        assert_eq!(a.status, 200);
        assert_eq!(a.body, SOAP.as_bytes());
        assert!(!a.close);
    }

    #[test]
    fn chunked_at_every_split() {
        // What WireMock's Jetty sends: hex sizes (one upper-case), then the last chunk.
        let (a, b) = SOAP.split_at(30);
        let msg = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:X}\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        );
        let ans = every_split(msg.as_bytes());
        assert_eq!(ans.status, 200);
        assert_eq!(ans.body, SOAP.as_bytes());
    }

    #[test]
    fn chunk_extensions_and_trailers() {
        let msg =
            "HTTP/1.1 500 Server Error\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n\
                   4;name=value;quoted=\"a;b\"\r\nabcd\r\n\
                   2 ; ext\r\nef\r\n\
                   000;last\r\n\
                   Checksum: 123\r\nX-Other: y\r\n\r\n";
        let a = every_split(msg.as_bytes());
        assert_eq!(a.status, 500);
        assert_eq!(a.body, b"abcdef");
        assert!(a.close);
    }

    #[test]
    fn chunk_data_may_hold_crlf_and_zero() {
        let msg =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n0\r\n\r\n\r\n0\r\n\r\n";
        assert_eq!(every_split(msg).body, b"0\r\n\r\n");
    }

    #[test]
    fn the_next_answer_is_left_in_the_buffer() {
        let one = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let two = format!("{one}HTTP/1.1 204 No Content\r\n\r\n");
        let (a, used) = done(two.as_bytes());
        assert_eq!(a.body, b"abc");
        assert_eq!(used, one.len());
        let (b, used2) = done(&two.as_bytes()[used..]);
        assert_eq!((b.status, b.body.len(), used + used2), (204, 0, two.len()));
    }

    #[test]
    fn http_1_0_closes_unless_kept_alive() {
        let (a, _) = done(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(a.close);
        let (a, _) =
            done(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        assert!(!a.close);
    }

    #[test]
    fn malformed_chunk_sizes_are_errors() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for bad in [
            "g\r\n",                    // not hex
            "-1\r\n",                   // signed
            " 5\r\nhello\r\n0\r\n\r\n", // leading space
            "\r\n",                     // empty size: httparse alone reads it as 0
            "5x\r\nhello\r\n",          // junk after the digits
            "5\rX",                     // CR without LF
            "11111111111111111\r\n",    // 17 hex digits: overflows u64
        ] {
            fails_at_every_split(format!("{head}{bad}").as_bytes(), HttpError::BadChunkSize);
        }
    }

    #[test]
    fn chunk_data_must_end_in_crlf() {
        let msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n";
        fails_at_every_split(msg, HttpError::MissingChunkCrlf);
        let msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\rX";
        fails_at_every_split(msg, HttpError::MissingChunkCrlf);
    }

    #[test]
    fn endless_lines_and_huge_sizes_end_in_an_error() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        // An extension that never ends: an error once the line passes the limit.
        let mut msg = format!("{head}5;").into_bytes();
        msg.resize(head.len() + MAX_CHUNK_LINE + 1, b'a');
        assert_eq!(parse_response(&msg), Err(HttpError::ChunkLineTooLong));
        // A size beyond the body limit: refused before waiting for its data.
        let msg = format!("{head}{:x}\r\n", MAX_BODY + 1);
        assert_eq!(parse_response(msg.as_bytes()), Err(HttpError::BodyTooLarge));
        let msg = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert_eq!(parse_response(msg.as_bytes()), Err(HttpError::BodyTooLarge));
        // A head that never ends.
        let mut msg = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        msg.resize(MAX_HEAD + 1, b'a');
        assert_eq!(parse_response(&msg), Err(HttpError::HeadTooLong));
        // A trailer field that never ends.
        let mut msg = format!("{head}0\r\nX-T: ").into_bytes();
        msg.resize(head.len() + MAX_HEAD + 16, b'a');
        assert_eq!(parse_response(&msg), Err(HttpError::TrailerTooLong));
    }

    #[test]
    fn framing_errors() {
        let cases: [(&[u8], HttpError); 8] = [
            (b"HTTP/1.1 200 OK\r\n\r\nbody", HttpError::NoFraming),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                HttpError::LengthAndChunked,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                HttpError::UnsupportedTransferEncoding("gzip, chunked".into()),
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd",
                HttpError::ConflictingContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc",
                HttpError::BadContentLength,
            ),
            (b"HTTP/1.1 100 Continue\r\n\r\n", HttpError::Interim(100)),
            (
                b"HTTP/1.1 2x0 OK\r\n\r\n",
                HttpError::Head(httparse::Error::Status),
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n",
                HttpError::Trailer(httparse::Error::HeaderName),
            ),
        ];
        for (msg, err) in cases {
            assert_eq!(
                parse_response(msg),
                Err(err),
                "{}",
                String::from_utf8_lossy(msg)
            );
        }
        // Identical repeated lengths are one length.
        let (a, _) =
            done(b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc");
        assert_eq!(a.body, b"abc");
    }
}
