//! Reading Server-Sent Events in tests and load tools.

/// Takes every complete event (ended by a blank line) off the front of
/// `buf` as `(event name, data)`; a partial event stays for the next read.
/// Events without a name (keep-alive comments) are skipped.
pub fn take_events(buf: &mut String) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Some(end) = buf.find("\n\n") {
        let block: String = buf.drain(..end + 2).collect();
        let mut name = String::new();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim_start().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if !name.is_empty() {
            out.push((name, data));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_events_come_out_and_partial_ones_wait() {
        let mut buf =
            String::from(": keep-alive\n\nevent: turn\ndata: {\"a\":1}\n\nevent: call\ndata: x");
        assert_eq!(
            take_events(&mut buf),
            [("turn".to_string(), "{\"a\":1}".to_string())]
        );
        assert_eq!(buf, "event: call\ndata: x");
        buf.push_str("\ndata: y\n\n");
        assert_eq!(
            take_events(&mut buf),
            [("call".to_string(), "x\ny".to_string())]
        );
        assert!(buf.is_empty());
    }
}
