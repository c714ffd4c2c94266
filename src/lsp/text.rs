//! Positions as the protocol counts them (lines, and UTF-16 code units in a
//! line, or bytes when the client offers UTF-8 at `initialize`) and byte
//! offsets as spans count them, and edits between them.

use std::cell::Cell;

thread_local! {
    /// Whether this session counts a line's characters in bytes (the negotiated `utf-8`
    /// position encoding); else in UTF-16 code units, the protocol's default. The server
    /// answers one client, on one thread.
    static UTF8: Cell<bool> = const { Cell::new(false) };
}

/// Counts positions in bytes (`true`, the `utf-8` encoding) or UTF-16 code units from now on.
pub fn count_bytes(utf8: bool) {
    UTF8.with(|u| u.set(utf8));
}

/// Where each line of a text starts.
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    /// Indexes `text`.
    pub fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { text, starts }
    }

    /// The protocol position of byte `offset`.
    pub fn position(&self, offset: usize) -> serde_json::Value {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts[line];
        let prefix = self.text.get(start..offset).unwrap_or("");
        let character = if UTF8.with(Cell::get) { prefix.len() } else { prefix.encode_utf16().count() };
        serde_json::json!({ "line": line, "character": character })
    }

    /// The byte offset of a protocol position (clamped to the text).
    pub fn offset(&self, position: &serde_json::Value) -> usize {
        let line = position["line"].as_u64().unwrap_or(0) as usize;
        let character = position["character"].as_u64().unwrap_or(0) as usize;
        let Some(&start) = self.starts.get(line) else { return self.text.len() };
        let end = self.starts.get(line + 1).map_or(self.text.len(), |&e| e);
        if UTF8.with(Cell::get) {
            // A byte inside a character, or past the line's end, means the character's start.
            let within = &self.text[start..end];
            let mut at = character.min(within.trim_end_matches('\n').len());
            while !within.is_char_boundary(at) {
                at -= 1;
            }
            return start + at;
        }
        let mut units = 0;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= character || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    /// A protocol range of bytes `start..end`.
    pub fn range(&self, start: usize, end: usize) -> serde_json::Value {
        serde_json::json!({ "start": self.position(start), "end": self.position(end) })
    }
}

/// Applies one `contentChanges` entry: a range and its new text, or the whole text.
pub fn apply(text: &mut String, change: &serde_json::Value) {
    let new = change["text"].as_str().unwrap_or_default();
    match change.get("range") {
        Some(range) if !range.is_null() => {
            let index = LineIndex::new(text);
            let (start, end) = (index.offset(&range["start"]), index.offset(&range["end"]));
            let (start, end) = (start.min(end), end.max(start));
            text.replace_range(start..end, new);
        }
        _ => *text = new.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_edits_land_where_they_say() {
        let text = "a = \"é😀\"\nb = 1\n";
        let index = LineIndex::new(text);
        let after_emoji = text.find("😀").unwrap_or(0) + '😀'.len_utf8();
        assert_eq!(index.position(after_emoji), serde_json::json!({ "line": 0, "character": 8 }));
        assert_eq!(index.offset(&serde_json::json!({ "line": 0, "character": 8 })), after_emoji);
        assert_eq!(index.offset(&serde_json::json!({ "line": 1, "character": 4 })), text.find('1').unwrap_or(0));
        let mut edited = text.to_string();
        let change = serde_json::json!({ "range": { "start": { "line": 1, "character": 4 }, "end": { "line": 1, "character": 5 } }, "text": "22" });
        apply(&mut edited, &change);
        assert_eq!(edited, "a = \"é😀\"\nb = 22\n");
    }

    #[test]
    fn with_utf8_negotiated_positions_count_bytes() {
        count_bytes(true);
        let text = "a = \"é😀\"\nb = 1\n";
        let index = LineIndex::new(text);
        let after_emoji = text.find("😀").unwrap_or(0) + '😀'.len_utf8();
        assert_eq!(index.position(after_emoji), serde_json::json!({ "line": 0, "character": after_emoji }));
        assert_eq!(index.offset(&serde_json::json!({ "line": 0, "character": after_emoji })), after_emoji);
        // Inside the emoji: its start.
        assert_eq!(index.offset(&serde_json::json!({ "line": 0, "character": after_emoji - 1 })), after_emoji - 4);
        assert_eq!(index.offset(&serde_json::json!({ "line": 0, "character": 99 })), text.find('\n').unwrap_or(0));
        count_bytes(false);
    }
}
